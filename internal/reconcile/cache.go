package reconcile

import (
	"context"
	"sync"
	"time"
)

// snapCache keeps each connection's snapshot of a period for a short
// time, so that repeated reports within the cache period make no new Pax8
// calls. Concurrent callers that miss share one walk (a single flight per
// connection and period), which runs detached from their contexts with
// its own timeout (STYLE rule 9). The cache checks no ownership: its
// caller does, before every read (SEC-43). It is safe for concurrent use.
type snapCache struct {
	ttl     time.Duration
	size    int
	timeout time.Duration
	now     func() time.Time

	mu      sync.Mutex
	entries map[snapKey]*snapEntry
}

// snapKey names one period of one grant of one connection.
type snapKey struct {
	tenantID, connID string
	connectedAt      int64
	period           Period
}

// snapEntry is one walk, done or in flight; its fields other than done
// are written before done is closed.
type snapEntry struct {
	done    chan struct{}
	started time.Time
	snap    *Snapshot
	err     error
}

func newSnapCache(ttl time.Duration, size int, timeout time.Duration, now func() time.Time) *snapCache {
	return &snapCache{ttl: ttl, size: size, timeout: timeout, now: now, entries: map[snapKey]*snapEntry{}}
}

// get returns the key's snapshot: the cached one if its walk started less
// than ttl ago, else one walked by walk (joining a walk in flight). A
// failed walk is not cached. It also reports whether the answer came from
// the cache or a walk another caller started.
func (c *snapCache) get(ctx context.Context, k snapKey, walk func(context.Context) (*Snapshot, error)) (*Snapshot, bool, error) {
	c.mu.Lock()
	now := c.now()
	e := c.entries[k]
	shared := true
	if e == nil || now.Sub(e.started) >= c.ttl && isDone(e) {
		c.evict(now)
		e = &snapEntry{done: make(chan struct{}), started: now}
		c.entries[k] = e
		shared = false
		go c.run(context.WithoutCancel(ctx), k, e, walk)
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.snap, shared, e.err
	case <-ctx.Done():
		return nil, shared, ctx.Err()
	}
}

func (c *snapCache) run(ctx context.Context, k snapKey, e *snapEntry, walk func(context.Context) (*Snapshot, error)) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	e.snap, e.err = walk(ctx)
	if e.err != nil {
		c.mu.Lock()
		if c.entries[k] == e {
			delete(c.entries, k)
		}
		c.mu.Unlock()
	}
	close(e.done)
}

func isDone(e *snapEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// evict drops expired finished entries and, when the cache is full, the
// oldest finished one. c.mu must be held.
func (c *snapCache) evict(now time.Time) {
	var oldest snapKey
	var oldestAt time.Time
	for k, e := range c.entries {
		if !isDone(e) {
			continue
		}
		if now.Sub(e.started) >= c.ttl {
			delete(c.entries, k)
			continue
		}
		if oldestAt.IsZero() || e.started.Before(oldestAt) {
			oldest, oldestAt = k, e.started
		}
	}
	if len(c.entries) >= c.size && !oldestAt.IsZero() {
		delete(c.entries, oldest)
	}
}
