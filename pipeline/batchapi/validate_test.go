package batchapi

import (
	"errors"
	"testing"
)

func TestSubmitRequestValidateAccepts(t *testing.T) {
	urls := make([]string, MaxURLsPerJob)
	for i := range urls {
		urls[i] = "https://www.linkedin.com/in/p"
	}
	tests := []struct {
		name string
		req  SubmitRequest
	}{
		{"one URL and one field", SubmitRequest{URLs: urls[:1], Fields: []string{FieldBusinessEmail}}},
		{"300 URLs", SubmitRequest{URLs: urls, Fields: []string{FieldPersonal}}},
		{"all four fields", SubmitRequest{URLs: urls[:1], Fields: allowedFields}},
		{"smallest chunk size", SubmitRequest{URLs: urls[:1], Fields: []string{FieldPersonalEmails}, ChunkSize: MinChunkSize}},
		{"largest chunk size", SubmitRequest{URLs: urls[:1], Fields: []string{FieldPhoneNumbers}, ChunkSize: MaxChunkSize}},
		{"webhook URL", SubmitRequest{URLs: urls[:1], Fields: []string{FieldBusinessEmail}, WebhookURL: "https://hooks.example/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.req.Validate(); err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
		})
	}
}

func TestListOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    ListOptions
		wantErr bool
	}{
		{"zero options", ListOptions{}, false},
		{"largest limit with a status", ListOptions{Limit: MaxListLimit, Status: StatusFailed, Cursor: "c"}, false},
		{"negative limit", ListOptions{Limit: -1}, true},
		{"limit above 100", ListOptions{Limit: 101}, true},
		{"unknown status", ListOptions{Status: "running"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.wantErr != (err != nil) || (err != nil && !errors.Is(err, ErrInvalidRequest)) {
				t.Errorf("Validate = %v, want error %v wrapping ErrInvalidRequest", err, tt.wantErr)
			}
		})
	}
}

func TestJobFinished(t *testing.T) {
	want := map[string]bool{StatusPending: false, StatusProcessing: false, StatusCompleted: true, StatusFailed: true, "": false}
	for status, finished := range want {
		if got := (Job{Status: status}).Finished(); got != finished {
			t.Errorf("Job{Status: %q}.Finished() = %v, want %v", status, got, finished)
		}
	}
}
