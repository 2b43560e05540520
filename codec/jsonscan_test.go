package codec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestObjectField(t *testing.T) {
	obj := []byte(` { "a" : 1, "b": {"a": 2}, "c\u0064": "x\"}", "e": [1, {"a": 3}], "A": 4, "a": 5 } `)
	tests := []struct {
		name  string
		key   string
		value string
		found bool
	}{
		{"last duplicate wins", "a", "5", true},
		{"key case matters", "A", "4", true},
		{"nested object is one value", "b", `{"a": 2}`, true},
		{"escaped key matches", "cd", `"x\"}"`, true},
		{"array is one value", "e", `[1, {"a": 3}]`, true},
		{"absent key", "z", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := objectField(obj, tt.key)
			if ok != tt.found || string(v) != tt.value {
				t.Errorf("objectField(%q) = %q, %v; want %q, %v", tt.key, v, ok, tt.value, tt.found)
			}
		})
	}
}

func TestForEachElement(t *testing.T) {
	var got []string
	forEachElement([]byte(` [ 1 , "a,]" , {"b": [2]}, null ] `), func(i int, v []byte) bool {
		got = append(got, string(v))
		return true
	})
	want := []string{"1", `"a,]"`, `{"b": [2]}`, "null"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("elements = %q, want %q", got, want)
	}
}

// checkScanAgreesWithEncodingJSON compares the scanner with encoding/json
// on valid JSON text.
func checkScanAgreesWithEncodingJSON(t testing.TB, text []byte) {
	t.Helper()
	var want bytes.Buffer
	if err := json.Compact(&want, text); err != nil {
		return
	}
	if got := appendCompact(nil, text); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("appendCompact(%q) = %q, want %q", text, got, want.Bytes())
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(text, &members) != nil || members == nil {
		return
	}
	got := map[string]string{}
	forEachMember(text, func(key, value []byte) bool {
		name, ok := decodeJSONString(key)
		if !ok {
			t.Fatalf("key %q of %q does not decode", key, text)
		}
		got[name] = string(value)
		return true
	})
	if len(got) != len(members) {
		t.Fatalf("forEachMember(%q) found %d members, encoding/json %d", text, len(got), len(members))
	}
	for name, raw := range members {
		if got[name] != string(raw) {
			t.Fatalf("member %q of %q = %q, want %q", name, text, got[name], raw)
		}
	}
}

func TestScanAgreesWithEncodingJSON(t *testing.T) {
	for _, text := range []string{
		sampleLine,
		`{}`, `{"a":{}}`, `{"a":[]}`, ` {"a" : "\\", "b":"\"" , "c": -1.5e3 }`,
		`{"k\u00e9y": true, "x": null}`, `[1, 2]`, `"s"`,
	} {
		checkScanAgreesWithEncodingJSON(t, []byte(text))
	}
}

func FuzzJSONScan(f *testing.F) {
	f.Add([]byte(sampleLine))
	f.Add([]byte(`{"a": [1, {"b": "c\"d"}], "e": null, "e": 1}`))
	f.Add([]byte(`{"a`))
	f.Fuzz(func(t *testing.T, text []byte) {
		// Invalid text must not panic; valid text must agree.
		_, _ = objectField(text, "a")
		forEachElement(text, func(int, []byte) bool { return true })
		_ = appendCompact(nil, text)
		checkScanAgreesWithEncodingJSON(t, text)
	})
}
