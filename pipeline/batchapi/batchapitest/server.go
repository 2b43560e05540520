package batchapitest

import (
	"context"
	crand "crypto/rand"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Server simulates the Batch Contact Enrich API as an [http.Handler]. It is
// safe for concurrent use. Close stops webhook deliveries and the listeners
// of ListenAndServe. The handler keeps serving requests after Close, but new
// jobs send no webhooks.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	linkKey []byte // random per server: signs download links

	// ctx ends at Close, which aborts webhook deliveries in flight and shuts
	// down listeners. wg counts every scheduled delivery until its goroutine
	// returns or its timer is stopped, and every listener until it stops.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // guards the fields below
	jobs   map[string]*job
	order  []*job // in submit order; a job's seq is its index
	timers map[string]*time.Timer
	closed bool
	stats  Stats

	faultRand *rand.Rand // draws of cfg.Faults
}

// New returns a Server for cfg; zero fields of cfg take their defaults.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		mux:     http.NewServeMux(),
		linkKey: make([]byte, 32),
		ctx:     ctx,
		cancel:  cancel,
		jobs:    make(map[string]*job),
		timers:  make(map[string]*time.Timer),
		stats:   Stats{SubmissionsPerURL: make(map[string]int)},

		faultRand: newFaultSource(cfg.FaultSeed),
	}
	crand.Read(s.linkKey) // never returns an error since Go 1.24

	s.mux.HandleFunc("/batch/person/contact/enrich", s.handleSubmit)
	s.mux.HandleFunc("/batch/{id}", s.handleStatus)
	s.mux.HandleFunc("/batch", s.handleList)
	s.mux.HandleFunc("/files/{id}/{name}", s.handleFile)
	s.mux.HandleFunc("/", s.handleUnknownPath)
	return s
}

// ServeHTTP routes a request to the API endpoints or the results files.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Close stops webhook timers, aborts deliveries in flight, shuts down the
// listeners of ListenAndServe and waits for all their goroutines. It is
// idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return
	}
	// 1. Refuse new deliveries and listeners; 2. abort deliveries in flight
	// and start the listeners' shutdown; 3. stop the timers that have not
	// fired, which will never call wg.Done themselves.
	s.closed = true
	s.cancel()
	for id, t := range s.timers {
		if t.Stop() {
			s.wg.Done()
		}
		delete(s.timers, id)
	}
	s.mu.Unlock()

	// 4. Wait for deliveries whose timer had already fired, and listeners.
	s.wg.Wait()
}

func (s *Server) now() time.Time {
	return s.cfg.Now()
}

func (s *Server) handleUnknownPath(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, http.StatusNotFound, errNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path, nil)
}

// allowMethod responds with 405 and returns false unless r uses method.
func (s *Server) allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	s.writeError(w, http.StatusMethodNotAllowed, errInvalidRequest,
		"method "+r.Method+" not allowed on "+r.URL.Path+"; use "+method, nil)
	return false
}
