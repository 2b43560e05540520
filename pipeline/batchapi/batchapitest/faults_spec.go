package batchapitest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// faultsAll is the spec key that sets the rate of every mode.
const faultsAll = "all"

// faultMode ties a Fault* name to its rate in a Faults value.
type faultMode struct {
	name string
	rate *float64
}

// modes lists the modes of f in the order of the fields of Faults.
func (f *Faults) modes() []faultMode {
	return []faultMode{
		{FaultServerError, &f.ServerError},
		{FaultRateLimitStorm, &f.RateLimitStorm},
		{FaultNoCredits, &f.NoCredits},
		{FaultForbidden, &f.Forbidden},
		{FaultDropConnection, &f.DropConnection},
		{FaultSubmitNoAnswer, &f.SubmitNoAnswer},
		{FaultStuckJob, &f.StuckJob},
		{FaultFailedJob, &f.FailedJob},
		{FaultEarlyLinkExpiry, &f.EarlyLinkExpiry},
		{FaultEmptyResult, &f.EmptyResult},
		{FaultFewerLines, &f.FewerLines},
		{FaultDuplicateLines, &f.DuplicateLines},
		{FaultTruncatedBody, &f.TruncatedBody},
		{FaultCorruptGzip, &f.CorruptGzip},
		{FaultContentEncodingGzip, &f.ContentEncodingGzip},
		{FaultMultipleMembers, &f.MultipleMembers},
		{FaultByteOrderMark, &f.ByteOrderMark},
		{FaultCRLFLines, &f.CRLFLines},
		{FaultBlankLines, &f.BlankLines},
		{FaultLongLines, &f.LongLines},
		{FaultDataShapes, &f.DataShapes},
		{FaultBigInternalID, &f.BigInternalID},
		{FaultWebhookDuplicate, &f.WebhookDuplicate},
		{FaultWebhookEarly, &f.WebhookEarly},
		{FaultWebhookUnsigned, &f.WebhookUnsigned},
		{FaultWebhookBadSignature, &f.WebhookBadSignature},
	}
}

// FaultModes returns the names of all fault modes, the Fault* constants, in
// the order of the fields of [Faults].
func FaultModes() []string {
	var f Faults
	modes := f.modes()
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = m.name
	}
	return names
}

// ParseFaults reads a comma-separated list of Mode=rate entries, such as
// "ServerError=0.1,CRLFLines=1". A mode is a name from [FaultModes], in any
// letter case, and a rate is a number from 0 to 1. The entry all=rate sets
// every mode. Entries apply from left to right, so "all=0.1,StuckJob=0"
// sets every mode but StuckJob. Empty entries are skipped, and an empty spec
// returns the zero Faults. An error names the invalid entry and lists the
// valid modes.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	modes := f.modes()
	for entry := range strings.SplitSeq(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, rate, err := parseFaultEntry(entry)
		if err != nil {
			return Faults{}, err
		}
		matched := false
		for _, m := range modes {
			if name == faultsAll || strings.EqualFold(name, m.name) {
				*m.rate = rate
				matched = true
			}
		}
		if !matched {
			return Faults{}, faultEntryError(entry, fmt.Sprintf("unknown mode %q", name))
		}
	}
	return f, nil
}

// parseFaultEntry splits one Mode=rate entry and checks the rate. The
// name "all" is returned in lower case whatever its spelling.
func parseFaultEntry(entry string) (name string, rate float64, err error) {
	name, value, ok := strings.Cut(entry, "=")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" {
		return "", 0, faultEntryError(entry, "expected Mode=rate")
	}
	if strings.EqualFold(name, faultsAll) {
		name = faultsAll
	}
	rate, err = strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(rate) || rate < 0 || rate > 1 {
		return "", 0, faultEntryError(entry, fmt.Sprintf("rate %q is not a number from 0 to 1", value))
	}
	return name, rate, nil
}

func faultEntryError(entry, reason string) error {
	return fmt.Errorf("invalid fault entry %q: %s; valid modes: %s, or %s to set them all",
		entry, reason, strings.Join(FaultModes(), ", "), faultsAll)
}

// String returns f as the spec that ParseFaults reads back: the modes with
// a non-zero rate, in the order of [FaultModes], such as
// "ServerError=0.1,CRLFLines=1". The zero Faults gives "".
func (f Faults) String() string {
	var b strings.Builder
	for _, m := range f.modes() {
		if *m.rate == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.name + "=" + strconv.FormatFloat(*m.rate, 'g', -1, 64))
	}
	return b.String()
}
