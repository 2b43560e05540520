package batchapitest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"testing"
)

// faultyFile completes a job of urls under faults and fetches its whole
// results file raw, without transparent decompression.
func faultyFile(t *testing.T, faults Faults, urls []string) (jobStatus, *http.Response, []byte, error) {
	t.Helper()
	s := newSim(t, Config{Faults: faults})
	st := s.completedJob(t, urls, []string{FieldBusinessEmail}, nil)
	resp, body, err := rawGet(t, freshClient(t), st.DownloadURL)
	return st, resp, body, err
}

func TestFaultEmptyResult(t *testing.T) {
	st, resp, _, _ := faultyFile(t, Faults{EmptyResult: 1}, profileURLs("empty", 4))
	if st.ResultCount != 0 || st.DownloadURL == "" {
		t.Errorf("result_count %d, download_url %q; want 0 and a link", st.ResultCount, st.DownloadURL)
	}
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("download answered %d, want 404", resp.StatusCode)
	}
}

func TestFaultFewerAndDuplicateLines(t *testing.T) {
	urls := profileURLs("lines", 6)
	line := func(i int) string { return string(ResultLine(urls[i], []string{FieldBusinessEmail})) }
	tests := []struct {
		name   string
		faults Faults
		want   []string
	}{
		{FaultFewerLines, Faults{FewerLines: 1}, []string{line(0), line(2), line(3), line(5)}},
		{FaultDuplicateLines, Faults{DuplicateLines: 1},
			[]string{line(0), line(0), line(1), line(2), line(3), line(3), line(4), line(5)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, resp, body, err := faultyFile(t, tt.faults, urls)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("download: status %d, error %v", resp.StatusCode, err)
			}
			if st.ResultCount != len(urls) {
				t.Errorf("result_count = %d, want %d: the status does not admit the fault", st.ResultCount, len(urls))
			}
			got := gunzipLines(t, body)
			if len(got) != len(tt.want) {
				t.Fatalf("file has %d lines, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("line %d = %s, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestFaultTruncatedBody(t *testing.T) {
	_, resp, _, err := faultyFile(t, Faults{TruncatedBody: 1}, profileURLs("cut", 50))
	if resp.StatusCode != http.StatusOK || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("download: status %d, read error %v; want 200 and an unexpected EOF", resp.StatusCode, err)
	}
}

func TestFaultCorruptGzip(t *testing.T) {
	_, resp, body, err := faultyFile(t, Faults{CorruptGzip: 1}, profileURLs("corrupt", 5))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d, error %v", resp.StatusCode, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("opening gzip: %v", err)
	}
	if _, err := io.ReadAll(zr); !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("reading gzip: %v, want %v", err, gzip.ErrChecksum)
	}
}

func TestFaultContentEncodingGzip(t *testing.T) {
	urls := profileURLs("encoding", 3)
	_, resp, body, err := faultyFile(t, Faults{ContentEncodingGzip: 1}, urls)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d, error %v", resp.StatusCode, err)
	}
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip", got)
	}
	if lines := gunzipLines(t, body); len(lines) != len(urls) {
		t.Errorf("file has %d lines, want %d", len(lines), len(urls))
	}
}

func TestFaultContentEncodingDefaultClient(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{ContentEncodingGzip: 1}})
	st := s.completedJob(t, profileURLs("transparent", 2), []string{FieldBusinessEmail}, nil)
	// Go's default transport requests gzip itself and so unpacks the body:
	// a client that gunzips again fails on plain JSON Lines.
	resp := s.do(t, http.MethodGet, st.DownloadURL, nil, "")
	if resp.status != http.StatusOK || !bytes.HasPrefix(resp.body, []byte(`{"original_identifier"`)) {
		t.Errorf("download: status %d, body starts %q; want 200 and plain JSON", resp.status, resp.body[:min(20, len(resp.body))])
	}
}
