package codec

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Record is one Kafka record to produce, as read from a fixture file.
type Record struct {
	Key   []byte // nil: no key
	Value []byte // nil: tombstone
}

// ReadRecordsJSONL reads one {"key": string|null, "value": ...} object per
// line. A JSON object, array, number or boolean value stands for its
// compact JSON text (key order kept), a string value for its raw bytes and
// null for a tombstone. Blank lines, a UTF-8 byte-order mark and CRLF line
// ends are allowed. Errors name the line.
func ReadRecordsJSONL(r io.Reader) ([]Record, error) {
	lines := newLineReader(r, DefaultMaxLineBytes)
	var records []Record
	for {
		line, _, err := lines.next()
		if errors.Is(err, io.EOF) {
			return records, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading records line %d: %w", lines.n, err)
		}
		if lines.n == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		rec, err := parseRecordLine(line)
		if err != nil {
			return nil, fmt.Errorf("reading records line %d: %w", lines.n, err)
		}
		records = append(records, rec)
	}
}

func parseRecordLine(line []byte) (Record, error) {
	if !json.Valid(line) {
		return Record{}, fmt.Errorf("invalid JSON %s", quoteValue(string(line)))
	}
	if !isJSONObject(line) {
		return Record{}, fmt.Errorf("the line is a %s, not an object with \"key\" and \"value\"", jsonKind(line))
	}
	var rec Record
	if key, ok := objectField(line, "key"); ok && !isJSONNull(key) {
		s, ok := decodeJSONString(key)
		if !ok {
			return Record{}, fmt.Errorf("key is a %s; write a string, or null for no key", jsonKind(key))
		}
		rec.Key = []byte(s)
	}
	value, ok := objectField(line, "value")
	switch {
	case !ok:
		return Record{}, errors.New("missing \"value\"; write null for a tombstone")
	case isJSONNull(value):
		return rec, nil
	}
	if s, ok := decodeJSONString(value); ok {
		rec.Value = append([]byte{}, s...)
		return rec, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, value); err != nil {
		return Record{}, fmt.Errorf("compacting value: %w", err)
	}
	rec.Value = compact.Bytes()
	return rec, nil
}

// ReadCSV reads a CSV export with a header row (UTF-8, optional
// byte-order mark, CRLF or LF, quoted fields). Each row becomes a record
// whose value is the raw cell of column, found by header name ignoring case
// and surrounding spaces, and whose key is the first cell (nil when empty).
// An empty URL cell gives an empty, non-nil value.
func ReadCSV(r io.Reader, column string) ([]Record, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(bom, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading CSV header: %w", err)
	}
	index := headerIndex(header, column)
	if index < 0 {
		return nil, fmt.Errorf("finding CSV column %q: the header has only %s", column, quoteHeader(header))
	}

	var records []Record
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return records, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading CSV: %w", err)
		}
		if index >= len(row) {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("reading CSV line %d: %d fields, so column %q (field %d) is missing",
				line, len(row), header[index], index+1)
		}
		rec := Record{Value: append([]byte{}, row[index]...)}
		if row[0] != "" {
			rec.Key = []byte(row[0])
		}
		records = append(records, rec)
	}
}

func headerIndex(header []string, column string) int {
	want := strings.TrimSpace(column)
	for i, name := range header {
		if strings.EqualFold(strings.TrimSpace(name), want) {
			return i
		}
	}
	return -1
}

func quoteHeader(header []string) string {
	quoted := make([]string, len(header))
	for i, name := range header {
		quoted[i] = fmt.Sprintf("%q", name)
	}
	return strings.Join(quoted, ", ")
}
