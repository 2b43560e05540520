package batchapitest

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"net/http"
	"slices"
	"testing"

	"github.com/contact-enricher/contact-enricher/codec"
)

// allShapes strikes every shaping fault of a results file.
var allShapes = Faults{MultipleMembers: 1, ByteOrderMark: 1, CRLFLines: 1, BlankLines: 1,
	LongLines: 1, DataShapes: 1, BigInternalID: 1}

// TestCodecReadsShapedFiles reads files under every shaping fault
// at once through the service's results reader, which must tolerate them
// all and find the same contact values as in a plain file.
func TestCodecReadsShapedFiles(t *testing.T) {
	s := newSim(t, Config{Faults: allShapes})
	urls, fields := profileURLs("codec", 45), []string{FieldBusinessEmail, FieldPersonal}
	st := s.completedJob(t, urls, fields, map[string]any{keyChunkSize: 20})

	var results []*codec.Result
	for _, link := range st.DownloadURLs {
		results = append(results, readWithCodec(t, link)...)
	}
	if len(results) != len(urls) {
		t.Fatalf("codec read %d records from the parts, want %d", len(results), len(urls))
	}
	limit63 := new(big.Int).Lsh(big.NewInt(1), 63)
	for i, res := range results {
		p := Contact(urls[i])
		if res.Identifier != urls[i] {
			t.Errorf("record %d: identifier %s, want %s", i, res.Identifier, urls[i])
		}
		if id, ok := new(big.Int).SetString(res.InternalID, 10); !ok || id.Cmp(limit63) <= 0 {
			t.Errorf("record %d: internal_id %q, want the exact integer above 2^63", i, res.InternalID)
		}
		if !sameAddresses(res.BusinessEmails, p.BusinessEmails) || !sameEmails(res.PersonalEmails, p.PersonalEmails) ||
			!slices.Equal(res.PhoneNumbers, p.PhoneNumbers) {
			t.Errorf("record %d: codec read %+v %+v %v, want %+v %+v %v", i,
				res.BusinessEmails, res.PersonalEmails, res.PhoneNumbers, p.BusinessEmails, p.PersonalEmails, p.PhoneNumbers)
		}
	}
}

// readWithCodec downloads link and reads every record with the service's
// results reader, failing on any error but the clean end.
func readWithCodec(t *testing.T, link string) []*codec.Result {
	t.Helper()
	resp, body, err := rawGet(t, freshClient(t), link)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d, error %v", resp.StatusCode, err)
	}
	rr, err := codec.NewResultsReader(bytes.NewReader(body), codec.ResultsReaderConfig{})
	if err != nil {
		t.Fatalf("opening results reader: %v", err)
	}
	defer rr.Close()
	var results []*codec.Result
	for {
		res, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return results
		}
		if err != nil {
			t.Fatalf("codec rejected the file: %v", err)
		}
		results = append(results, res)
	}
}

// sameAddresses compares business emails by address only, since a bare
// address has no status.
func sameAddresses(got []codec.Email, want []Email) bool {
	return slices.EqualFunc(got, want, func(g codec.Email, w Email) bool {
		return g.Email == w.Email && (g.Status == "" || g.Status == w.Status)
	})
}

func sameEmails(got []codec.Email, want []Email) bool {
	return slices.EqualFunc(got, want, func(g codec.Email, w Email) bool {
		return g.Email == w.Email && g.Status == w.Status
	})
}
