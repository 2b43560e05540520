package batchapitest

import (
	"bytes"
	"encoding/json"
	"math/big"
)

// fileShape is a set of shaping faults of a job's results files, one bit
// per mode.
type fileShape uint8

const (
	shapeMultipleMembers fileShape = 1 << iota
	shapeByteOrderMark
	shapeCRLFLines
	shapeBlankLines
	shapeLongLines
	shapeDataShapes
	shapeBigInternalID
)

func (fs fileShape) has(shape fileShape) bool {
	return fs&shape != 0
}

// drawShapesLocked draws each shaping fault on its own; the caller holds s.mu.
func (s *Server) drawShapesLocked() fileShape {
	f := s.cfg.Faults
	draws := []struct {
		mode  string
		rate  float64
		shape fileShape
	}{
		{FaultMultipleMembers, f.MultipleMembers, shapeMultipleMembers},
		{FaultByteOrderMark, f.ByteOrderMark, shapeByteOrderMark},
		{FaultCRLFLines, f.CRLFLines, shapeCRLFLines},
		{FaultBlankLines, f.BlankLines, shapeBlankLines},
		{FaultLongLines, f.LongLines, shapeLongLines},
		{FaultDataShapes, f.DataShapes, shapeDataShapes},
		{FaultBigInternalID, f.BigInternalID, shapeBigInternalID},
	}
	var shapes fileShape
	for _, d := range draws {
		if s.strikeLocked(d.mode, d.rate) {
			shapes |= d.shape
		}
	}
	return shapes
}

// emailForm is the encoding of a non-empty business_email.
type emailForm int

const (
	emailObjects emailForm = iota // a list of {email, status} objects, as by default
	emailStrings                  // a list of addresses, without status
	emailString                   // one address as a string; a list of addresses when there are more
)

// emptyForm is the encoding of an empty contact value.
type emptyForm int

const (
	emptyList    emptyForm = iota // [], as by default
	emptyNull                     // null
	emptyString                   // ""
	emptyMissing                  // the key is left out
)

// dataShape is the layout of the contact values in one line.
type dataShape struct {
	business emailForm
	empty    emptyForm
	flat     bool // no data envelope: the data keys sit at the top level
}

// dataShapeOf returns the shape of the line of URL index i under
// DataShapes. Three cycles of coprime lengths make every combination
// appear within 60 lines.
func dataShapeOf(i int) dataShape {
	return dataShape{business: emailForm(i % 3), empty: emptyForm(i % 4), flat: i%5 == 4}
}

// bigIDBases are added to internal_id under BigInternalID: 2^63 and 2^64,
// just past the int64 and uint64 ranges, and 2^96 far beyond both.
var bigIDBases = []*big.Int{
	new(big.Int).Lsh(big.NewInt(1), 63),
	new(big.Int).Lsh(big.NewInt(1), 64),
	new(big.Int).Lsh(big.NewInt(1), 96),
}

// bigInternalID returns id plus the base of URL index i, in decimal.
func bigInternalID(id string, i int) string {
	n, ok := new(big.Int).SetString(id, 10)
	if !ok {
		return id // Contact always formats an integer; keep anything else as it is
	}
	return n.Add(n, bigIDBases[i%len(bigIDBases)]).String()
}

// faultyLine returns the line of URL index i of j, without its line end,
// as the DataShapes and BigInternalID faults of j write it.
func faultyLine(j *job, i int) []byte {
	u := j.urls[i]
	if !j.shapes.has(shapeDataShapes) && !j.shapes.has(shapeBigInternalID) {
		return resultLine(u, j.kinds)
	}
	p := Contact(u)
	id := p.InternalID
	if j.shapes.has(shapeBigInternalID) {
		id = bigInternalID(id, i)
	}
	shape := dataShape{}
	if j.shapes.has(shapeDataShapes) {
		shape = dataShapeOf(i)
	}
	return shapedLine(u, id, p, j.kinds, shape)
}

// shapedRecord is a results line whose values are encoded beforehand; a
// nil value leaves its key out. The embedded data keys are set only when
// the line has no envelope.
type shapedRecord struct {
	OriginalIdentifier string          `json:"original_identifier"`
	InternalID         json.Number     `json:"internal_id"`
	Data               json.RawMessage `json:"data,omitempty"`
	shapedData
}

type shapedData struct {
	BusinessEmail json.RawMessage `json:"business_email,omitempty"`
	Personal      json.RawMessage `json:"personal_contact_info,omitempty"`
}

type shapedPersonal struct {
	PersonalEmails json.RawMessage `json:"personal_emails,omitempty"`
	PhoneNumbers   json.RawMessage `json:"phone_numbers,omitempty"`
}

// shapedLine writes the line of p in shape, with internal_id id. The zero
// shape gives the same bytes as resultLine.
func shapedLine(profileURL, id string, p Person, k kinds, shape dataShape) []byte {
	var data shapedData
	if k.business {
		data.BusinessEmail = businessJSON(p.BusinessEmails, shape)
	}
	if k.personalEmails || k.phones {
		var personal shapedPersonal
		if k.personalEmails {
			personal.PersonalEmails = valueJSON(p.PersonalEmails, shape.empty)
		}
		if k.phones {
			personal.PhoneNumbers = valueJSON(p.PhoneNumbers, shape.empty)
		}
		data.Personal = encodeJSON(personal)
	}

	rec := shapedRecord{OriginalIdentifier: profileURL, InternalID: json.Number(id)}
	if shape.flat {
		rec.shapedData = data
	} else {
		rec.Data = encodeJSON(data)
	}
	return encodeJSON(rec)
}

// businessJSON encodes business emails in the email form of shape.
func businessJSON(emails []Email, shape dataShape) json.RawMessage {
	if len(emails) == 0 || shape.business == emailObjects {
		return valueJSON(emails, shape.empty)
	}
	if shape.business == emailString && len(emails) == 1 {
		return encodeJSON(emails[0].Email)
	}
	addresses := make([]string, len(emails))
	for i, e := range emails {
		addresses[i] = e.Email
	}
	return encodeJSON(addresses)
}

// valueJSON encodes a list, or an empty one in the form empty.
func valueJSON[T any](list []T, empty emptyForm) json.RawMessage {
	if len(list) > 0 {
		return encodeJSON(list)
	}
	switch empty {
	case emptyNull:
		return json.RawMessage("null")
	case emptyString:
		return json.RawMessage(`""`)
	case emptyMissing:
		return nil
	default:
		return json.RawMessage("[]")
	}
}

// encodeJSON encodes v without escaping <, > and &, as resultLine does.
func encodeJSON(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Encode cannot fail on the strings, lists and raw JSON built here.
	_ = enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
