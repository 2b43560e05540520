package batchapitest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/klauspost/compress/gzip"
)

// Sizes of the shaping faults.
const (
	recordsPerMember = 3       // MultipleMembers starts a new gzip member after this many records
	longLinePadding  = 1 << 20 // bytes of the unknown field that LongLines adds
)

// longLineKey is the unknown top-level key whose value pads a long line.
const longLineKey = "padding"

var (
	utf8BOM = []byte{0xef, 0xbb, 0xbf}

	// blankLines are the lines, before their line end, that BlankLines puts
	// between records, in turn.
	blankLines = []string{"", "   ", "\r"}

	// paddingChunk is written again and again to pad a long line, so the
	// line is never held in memory whole.
	paddingChunk = bytes.Repeat([]byte("x"), 64<<10)
)

// serveFaultyFile serves a results file of a job struck by a file fault or
// a shaping fault. The byte-level faults TruncatedBody and CorruptGzip need
// the whole compressed body, so it is built in memory. Every other file is
// streamed as it is compressed.
func (s *Server) serveFaultyFile(w http.ResponseWriter, j *job, first, last int) {
	h := w.Header()
	h.Set("Content-Type", "application/gzip")
	if j.fileFault == FaultContentEncodingGzip {
		h.Set("Content-Encoding", "gzip")
	}
	if j.fileFault != FaultTruncatedBody && j.fileFault != FaultCorruptGzip {
		w.WriteHeader(http.StatusOK)
		if err := writeFaultyFile(w, j, first, last); err != nil {
			s.log.Debug("results download aborted", "batch_id", j.id, "error", err)
		}
		return
	}

	var buf bytes.Buffer
	_ = writeFaultyFile(&buf, j, first, last) // writes to a bytes.Buffer cannot fail
	body := buf.Bytes()
	switch j.fileFault {
	case FaultCorruptGzip:
		// The trailer is CRC-32 then size, 4 bytes each: flip the CRC of the
		// last member, so every line decodes and the error comes only at
		// the very end.
		body[len(body)-8] ^= 0xff
	case FaultTruncatedBody:
		// Announce the whole body, send half: the server then closes the
		// connection and the client reads an unexpected EOF.
		h.Set("Content-Length", strconv.Itoa(len(body)))
		body = body[:len(body)/2]
	}
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		s.log.Debug("results download aborted", "batch_id", j.id, "error", err)
	}
}

// writeFaultyFile writes the lines of URL indexes [first, last) of j to dst
// as gzip, shaped by the file faults of j.
func writeFaultyFile(dst io.Writer, j *job, first, last int) error {
	fw := &shapedWriter{dst: dst, zw: gzip.NewWriter(dst), shapes: j.shapes, eol: []byte("\n")}
	if j.shapes.has(shapeCRLFLines) {
		fw.eol = []byte("\r\n")
	}
	if j.shapes.has(shapeByteOrderMark) {
		fw.write(utf8BOM)
	}
	for i := first; i < last; i++ {
		for range lineCopies(j.fileFault, i-first) {
			fw.record(faultyLine(j, i))
		}
	}
	if j.shapes.has(shapeBlankLines) {
		fw.blank("")
		fw.blank("  ")
	}
	return fw.close()
}

// lineCopies returns how often the file fault writes the line at position
// n of its file: FewerLines leaves out the second of every three lines and
// DuplicateLines writes the first of every three twice.
func lineCopies(fileFault string, n int) int {
	switch {
	case fileFault == FaultFewerLines && n%3 == 1:
		return 0
	case fileFault == FaultDuplicateLines && n%3 == 0:
		return 2
	default:
		return 1
	}
}

// shapedWriter compresses a results file, applying the shaping faults that
// work on lines and gzip members. Its first error sticks: later writes do
// nothing and close returns it.
type shapedWriter struct {
	dst     io.Writer
	zw      *gzip.Writer
	shapes  fileShape
	eol     []byte
	records int  // records written so far
	ended   bool // the current member is closed; the next write starts one
	err     error
}

func (fw *shapedWriter) write(p []byte) {
	if fw.err != nil {
		return
	}
	if fw.ended {
		fw.zw.Reset(fw.dst)
		fw.ended = false
	}
	_, fw.err = fw.zw.Write(p)
}

// record writes one record with its line end, then the blank line and the
// member end that the shapes call for.
func (fw *shapedWriter) record(line []byte) {
	if fw.records == 0 && fw.shapes.has(shapeLongLines) {
		fw.writeLong(line)
	} else {
		fw.write(line)
	}
	fw.write(fw.eol)
	fw.records++

	if fw.shapes.has(shapeBlankLines) && fw.records%2 == 1 {
		fw.blank(blankLines[(fw.records/2)%len(blankLines)])
	}
	if fw.shapes.has(shapeMultipleMembers) && fw.records%recordsPerMember == 0 {
		fw.endMember()
	}
}

// writeLong writes line with the unknown key longLineKey added first,
// padding it beyond longLinePadding bytes piece by piece.
func (fw *shapedWriter) writeLong(line []byte) {
	fw.write([]byte(`{"` + longLineKey + `":"`))
	for range longLinePadding / len(paddingChunk) {
		fw.write(paddingChunk)
	}
	fw.write([]byte(`",`))
	fw.write(line[1:]) // the record without its opening brace
}

// blank writes a line that holds only text, which is empty or white space.
func (fw *shapedWriter) blank(text string) {
	fw.write([]byte(text))
	fw.write(fw.eol)
}

// endMember closes the current gzip member, so the next write starts
// another one.
func (fw *shapedWriter) endMember() {
	if fw.err == nil && !fw.ended {
		fw.err = fw.zw.Close()
		fw.ended = true
	}
}

func (fw *shapedWriter) close() error {
	fw.endMember()
	return fw.err
}
