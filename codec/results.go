package codec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Defaults of ResultsReaderConfig.
const (
	DefaultMaxLineBytes         = 16 << 20
	DefaultMaxDecompressedBytes = 4 << 30
)

var (
	// ErrResultsTooLarge is wrapped by ResultsReader.Next when the body,
	// after decompression, exceeds MaxDecompressedBytes.
	ErrResultsTooLarge = errors.New("results body too large")
	// ErrResultsReaderClosed is returned by ResultsReader.Next after Close.
	ErrResultsReaderClosed = errors.New("results reader closed")
)

var gzipMagic = []byte{0x1f, 0x8b}

// Result is one line of a results file, normalised.
type Result struct {
	Identifier     string          // original_identifier
	InternalID     string          // exact decimal text of internal_id, "" when absent
	Data           json.RawMessage // the data object verbatim (for a line without envelope: the line minus identifier and id)
	BusinessEmails []Email
	PersonalEmails []Email
	PhoneNumbers   []string
}

// Found reports whether any requested kind has a value.
func (r *Result) Found() bool {
	return r != nil && (len(r.BusinessEmails) > 0 || len(r.PersonalEmails) > 0 || len(r.PhoneNumbers) > 0)
}

// ResultsReaderConfig bounds what a download may cost.
type ResultsReaderConfig struct {
	MaxLineBytes         int   // default 16 MiB
	MaxDecompressedBytes int64 // default 4 GiB
}

// ResultsReader streams a results body (gzip detected by magic bytes 1f 8b,
// else plain JSON Lines), one record at a time, holding at most one line
// in memory. It is not safe for concurrent use.
type ResultsReader struct {
	lines *lineReader
	gz    *gzip.Reader
	err   error // returned by every later Next
}

// NewResultsReader starts reading the body r. Concatenated gzip members
// read as one stream. It fails when the gzip header cannot be read. The
// caller still owns r and closes it.
func NewResultsReader(r io.Reader, cfg ResultsReaderConfig) (*ResultsReader, error) {
	if r == nil {
		return nil, errors.New("creating results reader: nil body")
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.MaxDecompressedBytes <= 0 {
		cfg.MaxDecompressedBytes = DefaultMaxDecompressedBytes
	}

	raw := bufio.NewReader(r)
	magic, err := raw.Peek(len(gzipMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading results body: %w", err)
	}
	rr := &ResultsReader{}
	var body io.Reader = raw
	if bytes.Equal(magic, gzipMagic) {
		if rr.gz, err = gzip.NewReader(raw); err != nil {
			return nil, fmt.Errorf("reading gzip header of results body: %w", err)
		}
		rr.gz.Multistream(true)
		body = rr.gz
	}
	rr.lines = newLineReader(&sizeLimitReader{r: body, limit: cfg.MaxDecompressedBytes}, cfg.MaxLineBytes)
	return rr, nil
}

// Next returns the next record, or io.EOF at the clean end. Any other
// error means the body is bad (truncated, corrupt, not JSON), names the
// line and is returned again by every later call. A body cut inside a gzip
// stream or inside its last line wraps io.ErrUnexpectedEOF.
//
// NOTE: a plain (not gzipped) body cut exactly after a newline looks
// complete, because JSON Lines has no trailer to check.
func (r *ResultsReader) Next() (*Result, error) {
	if r.err != nil {
		return nil, r.err
	}
	res, err := r.next()
	if err != nil {
		r.err = err
	}
	return res, err
}

func (r *ResultsReader) next() (*Result, error) {
	for {
		line, complete, err := r.lines.next()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, fmt.Errorf("reading results line %d: %w", r.lines.n, err)
		}
		if r.lines.n == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		res, err := parseResultLine(line, complete)
		if err != nil {
			return nil, fmt.Errorf("reading results line %d: %w", r.lines.n, err)
		}
		return res, nil
	}
}

// parseResultLine checks that line is one JSON object and reads it.
func parseResultLine(line []byte, complete bool) (*Result, error) {
	if !json.Valid(line) {
		if !complete {
			return nil, fmt.Errorf("the body ends inside a record, so the download is truncated: %w", io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("invalid JSON %s", quoteValue(string(line)))
	}
	if !isJSONObject(line) {
		return nil, fmt.Errorf("the line is a %s, not an object", jsonKind(line))
	}
	return parseResult(line)
}

// Close releases the decompressor; it does not close the body. Later calls
// of Next return ErrResultsReaderClosed. Close is idempotent.
func (r *ResultsReader) Close() error {
	if errors.Is(r.err, ErrResultsReaderClosed) {
		return nil
	}
	r.err = ErrResultsReaderClosed
	if r.gz != nil {
		return r.gz.Close()
	}
	return nil
}

// sizeLimitReader fails once more than limit bytes have been read, which
// bounds what a gzip bomb can make us process.
type sizeLimitReader struct {
	r     io.Reader
	read  int64
	limit int64
}

func (l *sizeLimitReader) Read(p []byte) (int, error) {
	if l.read > l.limit {
		return 0, l.tooLarge()
	}
	// Read at most one byte past the limit, to see that there is one.
	if room := l.limit - l.read; int64(len(p)) > room {
		p = p[:room+1]
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	if l.read > l.limit {
		return n - int(l.read-l.limit), l.tooLarge()
	}
	return n, err
}

func (l *sizeLimitReader) tooLarge() error {
	return fmt.Errorf("%w: more than %d bytes after decompression", ErrResultsTooLarge, l.limit)
}
