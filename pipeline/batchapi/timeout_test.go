package batchapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestCallTimeoutIsRetryable(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		hang(r)
	})
	client := newTestClient(t, srv.URL, func(c *Config) { c.CallTimeout = 50 * time.Millisecond })

	_, err := client.Status(context.Background(), "id1")

	if !errors.Is(err, ErrCallTimeout) {
		t.Errorf("error = %v, want ErrCallTimeout", err)
	}
	if got := Classify(err); got != ClassRetryable {
		t.Errorf("Classify = %s, want retryable", got)
	}
}

func TestCallerDeadlineIsCanceled(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		hang(r)
	})
	client := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	_, err := client.List(ctx, ListOptions{})

	if errors.Is(err, ErrCallTimeout) {
		t.Errorf("error = %v, want no ErrCallTimeout for the caller's deadline", err)
	}
	if got := Classify(err); got != ClassCanceled {
		t.Errorf("Classify = %s, want canceled", got)
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	base := srv.URL
	srv.Close()
	client := newTestClient(t, base)

	_, err := client.Submit(context.Background(), validRequest())

	if err == nil {
		t.Fatal("Submit to a closed server succeeded")
	}
	if got := Classify(err); got != ClassRetryable {
		t.Errorf("Classify(%v) = %s, want retryable", err, got)
	}
}
