package batchapi

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantMsg string
	}{
		{"missing key", Config{}, "APIKey is empty"},
		{"key with a newline", Config{APIKey: testKey + "\n"}, "APIKey contains whitespace"},
		{"relative base URL", Config{APIKey: testKey, BaseURL: "api.crustdata.com"}, `BaseURL "api.crustdata.com" is not an absolute`},
		{"non-http base URL", Config{APIKey: testKey, BaseURL: "ftp://api.example"}, "BaseURL"},
		{"base URL with a query", Config{APIKey: testKey, BaseURL: "https://api.example/?x=1"}, "has a query"},
		{"base URL with user info", Config{APIKey: testKey, BaseURL: "https://user:" + testKey.Reveal() + "@api.example"}, "contains user info"},
		{"negative call timeout", Config{APIKey: testKey, CallTimeout: -time.Second}, "CallTimeout -1s is negative"},
		{"negative download timeout", Config{APIKey: testKey, DownloadTimeout: -time.Second}, "DownloadTimeout -1s is negative"},
		{"negative max backoff", Config{APIKey: testKey, MaxBackoff: -time.Second}, "MaxBackoff -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := New(tt.cfg)

			if client != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New = %v, %v, want ErrInvalidConfig", client, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), testKey.Reveal()) {
				t.Errorf("error = %q contains the key", err)
			}
		})
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	client, err := New(Config{APIKey: testKey})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	if client.baseURL != DefaultBaseURL {
		t.Errorf("baseURL = %q, want %q", client.baseURL, DefaultBaseURL)
	}
	if client.callTimeout != DefaultCallTimeout || client.downloadTimeout != DefaultDownloadTimeout || client.maxBackoff != DefaultMaxBackoff {
		t.Errorf("durations = %s, %s, %s, want the defaults", client.callTimeout, client.downloadTimeout, client.maxBackoff)
	}
	if client.http == nil || client.http.Timeout != 0 {
		t.Errorf("HTTP client = %+v, want one without an overall timeout", client.http)
	}
	if client.log == nil {
		t.Error("logger is nil")
	}
}

func TestNewStripsTrailingSlash(t *testing.T) {
	client, err := New(Config{APIKey: testKey, BaseURL: "http://127.0.0.1:8080/prefix/"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if client.baseURL != "http://127.0.0.1:8080/prefix" {
		t.Errorf("baseURL = %q, want no trailing slash", client.baseURL)
	}
}
