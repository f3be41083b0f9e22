package broker

import (
	"context"
	"sync"
)

// keyLock is a mutex per key whose waiters can give up with their context.
// The broker runs a refresh and a forced refresh of one connection as two
// single flights, both under this process's lease owner, so the lease
// alone would let both send the same refresh token; keyLock makes the
// second wait for the first and then see its result. Entries exist only
// while held or awaited, so the map stays as small as the work in flight.
// The zero value is ready to use.
type keyLock struct {
	mu sync.Mutex
	m  map[string]*keyLockEntry
}

type keyLockEntry struct {
	ch    chan struct{} // holds one value while the key is locked
	users int           // holders and waiters
}

// lock takes the lock for key, or returns ctx's error if ctx ends first.
func (l *keyLock) lock(ctx context.Context, key string) error {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*keyLockEntry)
	}
	e, ok := l.m[key]
	if !ok {
		e = &keyLockEntry{ch: make(chan struct{}, 1)}
		l.m[key] = e
	}
	e.users++
	l.mu.Unlock()

	select {
	case e.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		l.done(key, e)
		return ctx.Err()
	}
}

// unlock releases the lock for key, which the caller holds.
func (l *keyLock) unlock(key string) {
	l.mu.Lock()
	e := l.m[key]
	l.mu.Unlock()
	<-e.ch
	l.done(key, e)
}

func (l *keyLock) done(key string, e *keyLockEntry) {
	l.mu.Lock()
	if e.users--; e.users == 0 {
		delete(l.m, key)
	}
	l.mu.Unlock()
}
