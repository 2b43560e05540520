package batchapitest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

var (
	// ErrNotLoopback means ListenAndServe was asked to listen beyond loopback.
	ErrNotLoopback = errors.New("address is not a loopback address")

	// ErrClosed means ListenAndServe was called after Close.
	ErrClosed = errors.New("simulator closed")
)

const (
	readHeaderTimeout = 10 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// ListenAndServe serves s on addr until ctx ends or s is closed. The host
// of addr must be 127.0.0.1, ::1 or localhost, and port 0 picks a free port.
// It returns the bound address and a channel that receives the serving error
// (nil after a clean shutdown) and is then closed. Close waits for the shutdown.
func (s *Server) ListenAndServe(ctx context.Context, addr string) (net.Addr, <-chan error, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, nil, fmt.Errorf("listening on %q: %w", addr, ErrNotLoopback)
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listening on %q: %w", addr, err)
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return nil, nil, fmt.Errorf("listening on %q: %w", addr, ErrClosed)
	}
	s.wg.Add(1)
	s.mu.Unlock()

	srv := &http.Server{Handler: s, ReadHeaderTimeout: readHeaderTimeout}
	done := make(chan error, 1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		done <- s.serveUntilDone(ctx, srv, ln)
	}()
	s.log.Info("simulator listening", "addr", ln.Addr().String())
	return ln.Addr(), done, nil
}

// serveUntilDone runs srv on ln and shuts it down gracefully when ctx ends
// or s is closed.
func (s *Server) serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serving simulator: %w", err)
	case <-ctx.Done():
	case <-s.ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		<-served
		return fmt.Errorf("shutting down simulator: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving simulator: %w", err)
	}
	s.log.Info("simulator stopped")
	return nil
}
