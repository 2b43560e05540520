package codec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestJobStateRoundTrip(t *testing.T) {
	key := `{"id": 7}`
	s := JobState{
		Version:   JobStateVersion,
		JobID:     "job-1",
		BatchID:   "batch-9",
		Status:    JobSubmitted,
		Fields:    []string{"business_email"},
		URLs:      []string{avery},
		Sources:   map[string][]Source{avery: {{Topic: "crm", Partition: 1, Offset: 5, Key: &key, URL: avery}}},
		Owner:     "worker-a",
		Attempts:  2,
		CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2026, 12, 1, 9, 5, 0, 0, time.UTC),
	}
	b, err := s.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := UnmarshalJobState(b)
	if err != nil {
		t.Fatalf("UnmarshalJobState: %v", err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip = %+v, want %+v", got, s)
	}
}

func TestJobStateMarshalFillsDefaults(t *testing.T) {
	b, err := JobState{JobID: "job-1", Status: JobIntent}.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	for _, fragment := range []string{`"version":1`, `"fields":[]`, `"urls":[]`, `"sources":{}`} {
		if !strings.Contains(string(b), fragment) {
			t.Errorf("Marshal = %s, want it to contain %s", b, fragment)
		}
	}
}

func TestJobStateRejects(t *testing.T) {
	tests := []struct {
		name    string
		record  string
		message string
		version bool // whether the error wraps ErrUnsupportedJobStateVersion
	}{
		{"newer version", `{"version": 2, "job_id": "j", "status": "intent"}`, "version 2", true},
		{"missing version", `{"job_id": "j", "status": "intent"}`, "version 0", true},
		{"missing job id", `{"version": 1, "status": "intent"}`, "missing job_id", false},
		{"unknown status", `{"version": 1, "job_id": "j", "status": "paused"}`, `unknown status "paused"`, false},
		{"not json", `{"version": 1,`, "decoding job state", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalJobState([]byte(tt.record))
			if err == nil {
				t.Fatal("UnmarshalJobState succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
			if errors.Is(err, ErrUnsupportedJobStateVersion) != tt.version {
				t.Errorf("errors.Is(%v, ErrUnsupportedJobStateVersion) = %v, want %v", err, !tt.version, tt.version)
			}
		})
	}
}

func TestJobStateMarshalRejects(t *testing.T) {
	if _, err := (JobState{Status: JobIntent}).Marshal(); err == nil {
		t.Error("Marshal without a JobID succeeded, want an error")
	}
	_, err := JobState{Version: 3, JobID: "j", Status: JobIntent}.Marshal()
	if !errors.Is(err, ErrUnsupportedJobStateVersion) {
		t.Errorf("Marshal with version 3: error %v, want ErrUnsupportedJobStateVersion", err)
	}
}
