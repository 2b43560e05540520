package codec

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// The helpers in this file walk JSON text that json.Valid has accepted.
// They find object members by exact key and return sub-slices of the
// input, so a lookup allocates nothing. encoding/json would match struct
// fields case-insensitively and copy every value it visits. On text that
// is not valid JSON the results are meaningless, but the helpers do not
// panic (FuzzJSONScan checks this).

// jsonKind names the type of the raw JSON value v for messages.
func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "missing value"
	}
	switch v[0] {
	case '{':
		return "JSON object"
	case '[':
		return "JSON array"
	case '"':
		return "JSON string"
	case 'n':
		return "JSON null"
	case 't', 'f':
		return "JSON boolean"
	default:
		return "JSON number"
	}
}

func isJSONNull(v []byte) bool { return len(v) == 0 || v[0] == 'n' }

func isJSONObject(v []byte) bool { return len(v) > 0 && v[0] == '{' }

// isJSONEmpty reports whether v is one of the contract's empty values: null
// (or absent), "" or [].
func isJSONEmpty(v []byte) bool {
	if isJSONNull(v) {
		return true
	}
	if s, ok := decodeJSONString(v); ok {
		return strings.TrimSpace(s) == ""
	}
	return v[0] == '[' && len(bytes.TrimSpace(v[1:len(v)-1])) == 0
}

// decodeJSONString returns the text of the raw JSON string v, or false when
// v is not a string.
func decodeJSONString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	if !containsByte(inner, '\\') && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// keyIs reports whether the raw JSON string key (quotes included) spells
// want exactly.
func keyIs(key []byte, want string) bool {
	if len(key) < 2 {
		return false
	}
	inner := key[1 : len(key)-1]
	if !containsByte(inner, '\\') {
		return string(inner) == want
	}
	s, ok := decodeJSONString(key)
	return ok && s == want
}

// objectField returns the raw value of the member named key in the JSON
// object obj. As encoding/json does, the last of duplicate keys wins.
func objectField(obj []byte, key string) ([]byte, bool) {
	var found []byte
	forEachMember(obj, func(k, v []byte) bool {
		if keyIs(k, key) {
			found = v
		}
		return true
	})
	return found, found != nil
}

// forEachMember calls fn with the raw key (quotes included) and the raw
// value of each member of the JSON object obj, in order, until fn returns
// false.
func forEachMember(obj []byte, fn func(key, value []byte) bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		keyEnd := skipString(obj, i)
		key := obj[i:keyEnd]
		i = skipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		valueEnd := skipValue(obj, i)
		if valueEnd == i || !fn(key, obj[i:valueEnd]) {
			return
		}
		i = skipSpace(obj, valueEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
}

// forEachElement calls fn with the index and raw value of each element of
// the JSON array arr until fn returns false.
func forEachElement(arr []byte, fn func(i int, value []byte) bool) {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return
	}
	i = skipSpace(arr, i+1)
	for n := 0; i < len(arr) && arr[i] != ']'; n++ {
		end := skipValue(arr, i)
		if end == i || !fn(n, arr[i:end]) {
			return
		}
		i = skipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	return i
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue returns the index just past the JSON value that starts at i.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		return skipComposite(b, i)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just past the JSON string that starts at i.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipComposite returns the index just past the object or array that
// starts at i.
func skipComposite(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = skipString(b, i)
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return len(b)
}

// appendCompact appends the valid JSON src to dst without insignificant
// white space, as json.Compact does, but without its second validation.
func appendCompact(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case isJSONSpace(c):
			i++
		case c == '"':
			end := skipString(src, i)
			dst = append(dst, src[i:end]...)
			i = end
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}
