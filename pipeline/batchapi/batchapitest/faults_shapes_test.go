package batchapitest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
)

// shapedBody completes a job of urls under faults, asking for fields, and
// returns the decompressed whole results file and the job's status.
func shapedBody(t *testing.T, faults Faults, urls, fields []string) (jobStatus, []byte) {
	t.Helper()
	s := newSim(t, Config{Faults: faults})
	st := s.completedJob(t, urls, fields, nil)
	return st, fetchDecompressed(t, st.DownloadURL)
}

// fetchDecompressed downloads link and returns the gzip body decompressed,
// all members read as one stream.
func fetchDecompressed(t *testing.T, link string) []byte {
	t.Helper()
	resp, body, err := rawGet(t, freshClient(t), link)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d, error %v", resp.StatusCode, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("opening gzip body: %v", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("reading gzip body: %v", err)
	}
	return data
}

// wantLines returns the default line of each URL.
func wantLines(urls, fields []string) []string {
	lines := make([]string, len(urls))
	for i, u := range urls {
		lines[i] = string(ResultLine(u, fields))
	}
	return lines
}

// checkLines fails unless got equals want line by line.
func checkLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("file has %d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// checkStruck fails unless mode struck exactly once.
func checkStruck(t *testing.T, s *Server, mode string) {
	t.Helper()
	if got := s.Stats().Faults[mode]; got != 1 {
		t.Errorf("Faults[%s] = %d, want 1", mode, got)
	}
}

func TestFaultMultipleMembers(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{MultipleMembers: 1}})
	urls, fields := profileURLs("members", 10), []string{FieldBusinessEmail}
	st := s.completedJob(t, urls, fields, nil)
	resp, body, err := rawGet(t, freshClient(t), st.DownloadURL)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d, error %v", resp.StatusCode, err)
	}

	// Read member by member: 10 records make members of 3, 3, 3 and 1. A
	// bytes.Reader is read byte by byte, so Reset starts at the next member.
	var members []string
	r := bytes.NewReader(body)
	zr, err := gzip.NewReader(r)
	for err == nil {
		zr.Multistream(false)
		member, rerr := io.ReadAll(zr)
		if rerr != nil {
			t.Fatalf("reading member %d: %v", len(members)+1, rerr)
		}
		members = append(members, string(member))
		err = zr.Reset(r)
	}
	if !errors.Is(err, io.EOF) {
		t.Fatalf("opening member %d: %v", len(members)+1, err)
	}
	if len(members) != 4 {
		t.Fatalf("body has %d gzip members, want 4", len(members))
	}
	lines := strings.Split(strings.TrimSuffix(strings.Join(members, ""), "\n"), "\n")
	checkLines(t, lines, wantLines(urls, fields))
	if got := strings.Count(members[0], "\n"); got != recordsPerMember {
		t.Errorf("first member has %d lines, want %d", got, recordsPerMember)
	}
	checkStruck(t, s.srv, FaultMultipleMembers)
}

func TestFaultByteOrderMark(t *testing.T) {
	urls, fields := profileURLs("bom", 3), []string{FieldBusinessEmail}
	_, data := shapedBody(t, Faults{ByteOrderMark: 1}, urls, fields)
	rest, ok := bytes.CutPrefix(data, []byte{0xef, 0xbb, 0xbf})
	if !ok {
		t.Fatalf("file starts with % x, want the BOM ef bb bf", data[:min(3, len(data))])
	}
	lines := strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n")
	checkLines(t, lines, wantLines(urls, fields))
}

func TestFaultCRLFLines(t *testing.T) {
	urls, fields := profileURLs("crlf", 4), []string{FieldPersonal}
	_, data := shapedBody(t, Faults{CRLFLines: 1}, urls, fields)
	text := string(data)
	if !strings.HasSuffix(text, "\r\n") || strings.Count(text, "\n") != strings.Count(text, "\r\n") {
		t.Fatalf("not every line ends with CRLF: %q", text)
	}
	checkLines(t, strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n"), wantLines(urls, fields))
}

func TestFaultBlankLines(t *testing.T) {
	urls, fields := profileURLs("blank", 7), []string{FieldBusinessEmail}
	_, data := shapedBody(t, Faults{BlankLines: 1}, urls, fields)
	all := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")

	var records []string
	blanks := map[string]int{}
	for _, line := range all {
		if strings.TrimSpace(line) == "" {
			blanks[line]++
			continue
		}
		records = append(records, line)
	}
	checkLines(t, records, wantLines(urls, fields))
	for _, blank := range []string{"", "   ", "\r"} {
		if blanks[blank] == 0 {
			t.Errorf("no blank line %q among %q", blank, all)
		}
	}
	if strings.TrimSpace(all[0]) == "" || strings.TrimSpace(all[len(all)-1]) != "" {
		t.Errorf("first line %q, last line %q; want a record first and a blank line last", all[0], all[len(all)-1])
	}
}

func TestFaultLongLines(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{LongLines: 1}})
	urls, fields := profileURLs("long", 25), []string{FieldBusinessEmail}
	st := s.completedJob(t, urls, fields, map[string]any{keyChunkSize: 10})
	want := wantLines(urls, fields)

	// The whole file and each part file start with their own long line.
	links := append([]string{st.DownloadURL}, st.DownloadURLs...)
	firsts := []int{0, 0, 10, 20}
	for k, link := range links {
		br := bufio.NewReader(bytes.NewReader(fetchDecompressed(t, link)))
		for n := 0; ; n++ {
			line, err := br.ReadBytes('\n')
			if errors.Is(err, io.EOF) && len(line) == 0 {
				break
			}
			if err != nil {
				t.Fatalf("file %d, line %d: %v", k, n, err)
			}
			line = bytes.TrimSuffix(line, []byte("\n"))
			if long := len(line) > 1<<20; long != (n == 0) {
				t.Errorf("file %d, line %d has %d bytes; want more than 1 MiB only on the first line", k, n, len(line))
			}
			if got := withoutPadding(t, line); got != want[firsts[k]+n] {
				t.Errorf("file %d, line %d without padding = %.200s, want %s", k, n, got, want[firsts[k]+n])
			}
		}
	}
	checkStruck(t, s.srv, FaultLongLines)
}

// withoutPadding returns line with the padding key of LongLines removed,
// or line itself when it has none.
func withoutPadding(t *testing.T, line []byte) string {
	t.Helper()
	prefix := []byte(`{"` + longLineKey + `":"`)
	if !bytes.HasPrefix(line, prefix) {
		return string(line)
	}
	end := bytes.IndexByte(line[len(prefix):], '"')
	if end < 0 {
		t.Fatalf("padding of %.100s is not closed", line)
	}
	return "{" + string(line[len(prefix)+end+2:])
}

func TestFaultBigInternalID(t *testing.T) {
	urls, fields := profileURLs("bigid", 6), []string{FieldBusinessEmail}
	_, data := shapedBody(t, Faults{BigInternalID: 1}, urls, fields)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(urls) {
		t.Fatalf("file has %d lines, want %d", len(lines), len(urls))
	}

	limit63 := new(big.Int).Lsh(big.NewInt(1), 63)
	limit64 := new(big.Int).Lsh(big.NewInt(1), 64)
	above64 := 0
	for i, line := range lines {
		var rec struct {
			InternalID json.RawMessage `json:"internal_id"`
		}
		decodeJSON(t, []byte(line), &rec)
		id, ok := new(big.Int).SetString(string(rec.InternalID), 10)
		if !ok || id.Cmp(limit63) <= 0 {
			t.Errorf("line %d: internal_id %s, want a JSON integer above 2^63", i, rec.InternalID)
			continue
		}
		if id.Cmp(limit64) > 0 {
			above64++
		}
		// Apart from the id, the line is the default one.
		orig := `"internal_id":` + Contact(urls[i]).InternalID + `,`
		got := strings.Replace(line, `"internal_id":`+string(rec.InternalID)+`,`, orig, 1)
		if want := string(ResultLine(urls[i], fields)); got != want {
			t.Errorf("line %d = %s, want %s with a bigger internal_id", i, line, want)
		}
	}
	if above64 == 0 {
		t.Errorf("no internal_id above 2^64 in %q", lines)
	}
}
