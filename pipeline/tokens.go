package pipeline

import "context"

// tokenPool holds one token per job the account may have active. A job
// takes a token before it is submitted and returns it when the API reports
// the job finished, so the service never has more active jobs than tokens.
// It is safe for concurrent use.
type tokenPool struct {
	tokens chan struct{}
}

func newTokenPool(n int) *tokenPool {
	p := &tokenPool{tokens: make(chan struct{}, n)}
	for range n {
		p.tokens <- struct{}{}
	}
	return p
}

// acquire takes a token, waiting until one is free or ctx ends.
func (p *tokenPool) acquire(ctx context.Context) error {
	select {
	case <-p.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release returns a token taken by acquire.
func (p *tokenPool) release() {
	select {
	case p.tokens <- struct{}{}:
	default:
		panic("pipeline: token released twice")
	}
}

// inUse returns how many tokens are taken.
func (p *tokenPool) inUse() int { return cap(p.tokens) - len(p.tokens) }
