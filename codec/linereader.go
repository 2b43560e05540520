package codec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrLineTooLong is wrapped by readers of JSON Lines for a line longer
// than their limit.
var ErrLineTooLong = errors.New("line too long")

// lineReader reads lines of any length up to max bytes, so one long line
// does not force the whole body into memory. It counts lines from 1.
type lineReader struct {
	br   *bufio.Reader
	max  int
	n    int    // number of the line last returned
	long []byte // assembles a line longer than the buffer of br
}

func newLineReader(r io.Reader, maxLine int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: maxLine}
}

// next returns the next line without its line end ("\n" or "\r\n"). The
// line is valid until the following call. complete is false for a last
// line that the body ends without a newline. At the end it returns io.EOF;
// other errors come from the underlying reader or the limit.
func (l *lineReader) next() (line []byte, complete bool, err error) {
	l.long = l.long[:0]
	l.n++
	for {
		chunk, err := l.br.ReadSlice('\n')
		// Two bytes of slack for the line end.
		if len(l.long)+len(chunk)-2 > l.max {
			return nil, false, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, l.max)
		}
		switch {
		case err == nil:
			line = chunk
			if len(l.long) > 0 {
				l.long = append(l.long, chunk...)
				line = l.long
			}
			return l.checked(trimLineEnd(line), true)
		case errors.Is(err, bufio.ErrBufferFull):
			l.long = append(l.long, chunk...)
		case errors.Is(err, io.EOF):
			l.long = append(l.long, chunk...)
			if len(l.long) == 0 {
				return nil, false, io.EOF
			}
			return l.checked(trimLineEnd(l.long), false)
		default:
			return nil, false, err
		}
	}
}

func (l *lineReader) checked(line []byte, complete bool) ([]byte, bool, error) {
	if len(line) > l.max {
		return nil, false, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, l.max)
	}
	return line, complete, nil
}

func trimLineEnd(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}
