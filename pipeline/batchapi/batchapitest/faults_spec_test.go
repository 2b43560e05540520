package batchapitest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseFaults(t *testing.T) {
	var all Faults
	for _, m := range all.modes() {
		*m.rate = 0.25
	}
	allButStuck := all
	allButStuck.StuckJob = 0

	tests := []struct {
		name    string
		spec    string
		want    Faults
		wantErr []string // parts of the error message; nil means no error
	}{
		{name: "empty spec sets nothing", spec: ""},
		{name: "one mode", spec: "ServerError=0.1", want: Faults{ServerError: 0.1}},
		{name: "several modes with spaces", spec: " CRLFLines=1 , WebhookEarly = 0.5 ", want: Faults{CRLFLines: 1, WebhookEarly: 0.5}},
		{name: "mode in any letter case", spec: "bigINTERNALid=1", want: Faults{BigInternalID: 1}},
		{name: "empty entries are skipped", spec: ",SubmitNoAnswer=1,,", want: Faults{SubmitNoAnswer: 1}},
		{name: "all sets every mode", spec: "ALL=0.25", want: all},
		{name: "later entries win", spec: "all=0.25,StuckJob=0", want: allButStuck},
		{name: "rate zero and one are allowed", spec: "NoCredits=0,Forbidden=1", want: Faults{Forbidden: 1}},
		{name: "unknown mode", spec: "ServerError=0.1,Gremlins=1",
			wantErr: []string{`"Gremlins=1"`, "unknown mode", "ServerError, RateLimitStorm", "WebhookBadSignature", "all"}},
		{name: "missing rate", spec: "CorruptGzip", wantErr: []string{`"CorruptGzip"`, "Mode=rate", "CorruptGzip,"}},
		{name: "missing mode", spec: "=1", wantErr: []string{`"=1"`, "Mode=rate"}},
		{name: "rate above one", spec: "LongLines=2", wantErr: []string{`"LongLines=2"`, "from 0 to 1", "valid modes"}},
		{name: "negative rate", spec: "LongLines=-0.1", wantErr: []string{`"LongLines=-0.1"`, "from 0 to 1"}},
		{name: "rate not a number", spec: "LongLines=often", wantErr: []string{`"often"`, "from 0 to 1"}},
		{name: "rate NaN", spec: "all=NaN", wantErr: []string{`"all=NaN"`, "from 0 to 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFaults(tt.spec)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ParseFaults(%q) error: %v", tt.spec, err)
				}
				if got != tt.want {
					t.Errorf("ParseFaults(%q) = %s, want %s", tt.spec, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseFaults(%q) = %s, want an error", tt.spec, got)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func TestFaultsStringRoundTrips(t *testing.T) {
	f := Faults{ServerError: 0.1, SubmitNoAnswer: 1, DataShapes: 0.333, WebhookBadSignature: 0.5}
	const want = "ServerError=0.1,SubmitNoAnswer=1,DataShapes=0.333,WebhookBadSignature=0.5"
	if got := f.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	back, err := ParseFaults(f.String())
	if err != nil || back != f {
		t.Errorf("ParseFaults(String()) = %s, %v; want %s", back, err, f)
	}
	if got := (Faults{}).String(); got != "" {
		t.Errorf("zero Faults String() = %q, want empty", got)
	}
}

// TestFaultModesCoverEveryField catches a field of Faults that is missing
// from the mode table, and so from the flags and Stats names.
func TestFaultModesCoverEveryField(t *testing.T) {
	typ := reflect.TypeFor[Faults]()
	var fields []string
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Name)
	}
	if modes := FaultModes(); !slices.Equal(modes, fields) {
		t.Errorf("FaultModes() = %v\nwant the fields of Faults in order: %v", modes, fields)
	}
}
