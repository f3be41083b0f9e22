package broker

import (
	"context"
	"sync"
)

// inflight counts the refreshes running in this process, so that a
// shutdown can wait for them. The zero value is ready to use.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to zero
}

func (f *inflight) start() {
	f.mu.Lock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
	f.mu.Unlock()
}

func (f *inflight) end() {
	f.mu.Lock()
	if f.n--; f.n == 0 {
		close(f.idle)
	}
	f.mu.Unlock()
}

// Wait blocks until no refresh started by b is running, or ctx is done,
// and returns ctx's error in that case. A refresh runs detached from the
// contexts of the callers waiting for it (one impatient caller cannot fail
// the others), so it may still be storing the tokens the provider issued,
// a rotated refresh token among them, after its callers have given up:
// stop calling b, call Wait, and only then close the store.
func (b *Broker) Wait(ctx context.Context) error {
	b.running.mu.Lock()
	if b.running.n == 0 {
		b.running.mu.Unlock()
		return nil
	}
	idle := b.running.idle
	b.running.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
