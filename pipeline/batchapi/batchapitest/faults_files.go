package batchapitest

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/klauspost/compress/gzip"
)

// faultyLines returns the lines of j's file [first, last) as the job's file
// fault shapes them, each with its newline.
func faultyLines(j *job, first, last int) [][]byte {
	var lines [][]byte
	for i, u := range j.urls[first:last] {
		line := append(resultLine(u, j.kinds), '\n')
		switch {
		case j.fileFault == FaultFewerLines && i%3 == 1:
			continue
		case j.fileFault == FaultDuplicateLines && i%3 == 0:
			lines = append(lines, line)
		}
		lines = append(lines, line)
	}
	return lines
}

// serveFaultyFile serves a results file of a job struck by a file fault.
// Unlike streamLines it builds the body in memory, which the byte-level
// faults need and the small files of a fault test allow.
func (s *Server) serveFaultyFile(w http.ResponseWriter, j *job, first, last int) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, line := range faultyLines(j, first, last) {
		_, _ = zw.Write(line) // writes to a bytes.Buffer cannot fail
	}
	_ = zw.Close()
	body := buf.Bytes()

	h := w.Header()
	h.Set("Content-Type", "application/gzip")
	switch j.fileFault {
	case FaultContentEncodingGzip:
		h.Set("Content-Encoding", "gzip")
	case FaultCorruptGzip:
		// The trailer is CRC-32 then size, 4 bytes each: flip the CRC, so
		// every line decodes and the error comes only at the very end.
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
