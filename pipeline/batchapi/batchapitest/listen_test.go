package batchapitest

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestListenAndServeRejectsNonLoopback(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want error
	}{
		{name: "all interfaces by empty host", addr: ":0", want: ErrNotLoopback},
		{name: "all interfaces by 0.0.0.0", addr: "0.0.0.0:0", want: ErrNotLoopback},
		{name: "documentation address", addr: "192.0.2.1:0", want: ErrNotLoopback},
		{name: "host name other than localhost", addr: "example.com:0", want: ErrNotLoopback},
	}
	s := New(Config{})
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.ListenAndServe(t.Context(), tt.addr); !errors.Is(err, tt.want) {
				t.Errorf("ListenAndServe(%q) = %v, want %v", tt.addr, err, tt.want)
			}
		})
	}
	if _, _, err := s.ListenAndServe(t.Context(), "no-port"); err == nil {
		t.Error("ListenAndServe(no-port) = nil, want an error")
	}
}

func TestListenAndServeStops(t *testing.T) {
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, s *Server)
	}{
		{name: "when ctx ends", stop: func(cancel context.CancelFunc, _ *Server) { cancel() }},
		{name: "when the server closes", stop: func(_ context.CancelFunc, s *Server) { s.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			defer s.Close()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			addr, done, err := s.ListenAndServe(ctx, "127.0.0.1:0")
			if err != nil {
				t.Fatalf("ListenAndServe() = %v", err)
			}

			req, _ := http.NewRequest(http.MethodGet, "http://"+addr.String()+"/batch", nil)
			req.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("listing jobs: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("list answered %d, want 200", resp.StatusCode)
			}

			tt.stop(cancel, s)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serving ended with %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("server did not stop within 5s")
			}
			if _, ok := <-done; ok {
				t.Error("done channel not closed after the result")
			}
		})
	}
}

func TestListenAndServeAfterClose(t *testing.T) {
	s := New(Config{})
	s.Close()
	if _, _, err := s.ListenAndServe(t.Context(), "127.0.0.1:0"); !errors.Is(err, ErrClosed) {
		t.Errorf("ListenAndServe() after Close = %v, want ErrClosed", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg := Config{PublicURL: "http://127.0.0.1:8080/"}.withDefaults()
	if cfg.APIKey != "sim-key" || cfg.JobDuration != 2*time.Second || cfg.MaxActiveJobs != 5 || cfg.LinkTTL != 5*24*time.Hour {
		t.Errorf("defaults: key %q, duration %s, max jobs %d, link TTL %s", cfg.APIKey, cfg.JobDuration, cfg.MaxActiveJobs, cfg.LinkTTL)
	}
	if cfg.Now == nil || cfg.Logger == nil || cfg.WebhookClient == nil || cfg.WebhookClient.Timeout != 5*time.Second {
		t.Error("defaults: Now, Logger or WebhookClient missing, or webhook timeout not 5s")
	}
	if cfg.PublicURL != "http://127.0.0.1:8080" {
		t.Errorf("PublicURL = %q, want the trailing slash trimmed", cfg.PublicURL)
	}
}

func TestPublicURLInLinks(t *testing.T) {
	s := newSim(t, Config{PublicURL: "https://files.sim.example/"})
	st := s.completedJob(t, profileURLs("public", 1), []string{FieldBusinessEmail}, nil)
	want := "https://files.sim.example/files/" + st.BatchID + "/all?expires="
	if len(st.DownloadURL) < len(want) || st.DownloadURL[:len(want)] != want {
		t.Errorf("download_url = %q, want prefix %q", st.DownloadURL, want)
	}
}
