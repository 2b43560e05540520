package codec

import (
	"bytes"
	"strconv"
	"strings"
)

// decodeChange reads a Debezium change event env whose "op" value is op.
func (d *Decoder) decodeChange(env, op []byte) (Decoded, error) {
	name, ok := decodeJSONString(op)
	if !ok {
		return Decoded{}, decodeError(ReasonUnsupportedOp, "the Debezium \"op\" field is a "+jsonKind(op)+
			" ("+quoteValue(string(op))+"); expected \"c\", \"r\", \"u\" or \"d\"")
	}
	switch name {
	case "d":
		return Decoded{Action: ActionSkip, SkipReason: SkipDelete}, nil
	case "u":
		if d.urlUnchanged(env) {
			return Decoded{Action: ActionSkip, SkipReason: SkipURLUnchanged}, nil
		}
	case "c", "r":
	default:
		return Decoded{}, decodeError(ReasonUnsupportedOp, "the Debezium operation "+quoteValue(name)+
			" is not read; only c (create), r (snapshot read), u (update) and d (delete) are, "+
			"so route truncate and message events away from this topic")
	}
	return d.afterURL(env, name)
}

// afterURL reads the profile URL of the "after" row of a c, r or u event.
func (d *Decoder) afterURL(env []byte, op string) (Decoded, error) {
	after, ok := objectField(env, "after")
	if !ok || isJSONNull(after) {
		return Decoded{}, decodeError(ReasonMissingProfileURL, "the Debezium \""+op+
			"\" event has no \"after\" row, so it carries no profile URL")
	}
	if !isJSONObject(after) {
		return Decoded{}, decodeError(ReasonUnsupportedValue, "the \"after\" row of the Debezium \""+op+
			"\" event is a "+jsonKind(after)+", not an object; configure the connector to emit rows as JSON objects")
	}
	column := d.column()
	v, found := objectField(after, column)
	return urlFromJSON(v, found, "column "+strconv.Quote(column)+" of the Debezium \"after\" row")
}

// urlUnchanged reports whether an update left the profile URL as it was,
// so the contact was enriched already. A null "before" row, the Debezium
// default without full replica identity, never counts as unchanged.
func (d *Decoder) urlUnchanged(env []byte) bool {
	before, ok := objectField(env, "before")
	if !ok || !isJSONObject(before) {
		return false
	}
	after, ok := objectField(env, "after")
	if !ok || !isJSONObject(after) {
		return false
	}
	column := d.column()
	old, oldFound := objectField(before, column)
	cur, curFound := objectField(after, column)
	oldAbsent, curAbsent := !oldFound || isJSONNull(old), !curFound || isJSONNull(cur)
	if oldAbsent || curAbsent {
		return oldAbsent && curAbsent
	}
	oldText, oldIsString := decodeJSONString(old)
	curText, curIsString := decodeJSONString(cur)
	if !oldIsString || !curIsString {
		// The same non-string value twice was dead-lettered already.
		return !oldIsString && !curIsString && bytes.Equal(old, cur)
	}
	return sameProfileURL(oldText, curText)
}

// sameProfileURL compares two URL spellings by canonical form, or, when
// neither canonicalises, by trimmed text.
func sameProfileURL(a, b string) bool {
	canonicalA, errA := CanonicalProfileURL(a)
	canonicalB, errB := CanonicalProfileURL(b)
	switch {
	case errA == nil && errB == nil:
		return canonicalA == canonicalB
	case errA != nil && errB != nil:
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return false
}
