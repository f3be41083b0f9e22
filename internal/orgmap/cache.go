package orgmap

import (
	"context"
	"sync"
	"time"
)

// companyCache keeps each connection's company list for a short time, so
// that the page views and API reads of one mapping session share one walk
// of the Pax8 API instead of each paying a full paged listing. Concurrent
// callers that miss share one walk (a single flight per connection), which
// runs detached from their contexts, bounded by its own timeout (STYLE
// rule 9), so that one caller giving up does not fail the others. A
// companyCache is safe for concurrent use.
//
// Entries are keyed by tenant, connection and grant. The cache checks no
// ownership: its caller does, before every read, hit or miss (SEC-43).
type companyCache struct {
	ttl  time.Duration // how long a list is served after its walk started
	size int           // how many connections' lists are kept at most
	now  func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
}

// cacheKey names one grant of one connection: a new consent on the same
// connection (which may be another Pax8 account) has a new key.
type cacheKey struct {
	tenantID, connID string
	connectedAt      int64 // the connection's ConnectedAt, in Unix nanoseconds
}

// cacheEntry is one connection's list and its walk in flight, if any.
type cacheEntry struct {
	companies []Company
	listedAt  time.Time // when the walk that listed companies started; zero before the first
	walk      *walk     // the newest walk in flight, or nil
	walkedAt  time.Time // when the newest walk started; zero before the first
}

// walk is one listing of a connection's companies, shared by every caller
// that waits for it. Its fields are written before done is closed.
type walk struct {
	done      chan struct{}
	startedAt time.Time
	companies []Company
	err       error
}

func newCompanyCache(ttl time.Duration, size int, now func() time.Time) *companyCache {
	return &companyCache{ttl: ttl, size: size, now: now, entries: make(map[cacheKey]*cacheEntry)}
}

// get returns the connection's companies and when they were listed: the
// cached list if its walk started less than ttl ago and fresh is not set,
// else the result of a walk made by list. A walk already in flight is
// joined, unless fresh is set: then a new walk starts, so what is returned
// was listed after the call. But a connection gets at most one walk per
// ttl, fresh or not: a fresh get within ttl of the last walk's start is a
// plain one, so that a caller repeating ?refresh=1 cannot make grantd walk
// the vendor's API over and over. list runs in its own goroutine with a context
// that ctx's cancellation does not reach; a failed walk is not cached.
// The returned slice is shared and must not be modified.
func (c *companyCache) get(ctx context.Context, key cacheKey, fresh bool, list func(context.Context) ([]Company, error)) ([]Company, time.Time, error) {
	c.mu.Lock()
	now := c.now()
	e := c.entries[key]
	if fresh && e != nil && !e.walkedAt.IsZero() && now.Before(e.walkedAt.Add(c.ttl)) {
		fresh = false
	}
	if e != nil && !fresh && !e.listedAt.IsZero() && now.Before(e.listedAt.Add(c.ttl)) {
		companies, at := e.companies, e.listedAt
		c.mu.Unlock()
		return companies, at, nil
	}
	if e == nil {
		c.evict(now)
		e = &cacheEntry{}
		c.entries[key] = e
	}
	w := e.walk
	if w == nil || fresh {
		w = &walk{done: make(chan struct{}), startedAt: now}
		e.walk, e.walkedAt = w, now
		go c.run(context.WithoutCancel(ctx), key, e, w, list)
	}
	c.mu.Unlock()

	select {
	case <-w.done:
		return w.companies, w.startedAt, w.err
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	}
}

// run makes walk w and, if it is still the entry's newest and the entry is
// still cached, stores its list.
func (c *companyCache) run(ctx context.Context, key cacheKey, e *cacheEntry, w *walk, list func(context.Context) ([]Company, error)) {
	defer close(w.done)
	companies, err := list(ctx)
	w.companies, w.err = companies, err
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.walk != w {
		return // a fresh walk started after this one; it decides
	}
	e.walk = nil
	if err == nil && c.entries[key] == e {
		e.companies, e.listedAt = companies, w.startedAt
	}
}

// holds reports whether the connection's cached list, if it has one,
// holds company with its name; with no list cached it reports true.
func (c *companyCache) holds(key cacheKey, company Company) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || e.listedAt.IsZero() {
		return true
	}
	for _, co := range e.companies {
		if co.ID == company.ID {
			return co.Name == company.Name
		}
	}
	return false
}

// invalidate forgets the connection's list, so the next get walks again.
// A walk in flight still answers its callers but is not cached.
func (c *companyCache) invalidate(key cacheKey) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

// evict makes room for one more entry: it drops the expired lists with no
// walk in flight, then, while the cache is still full, the entry listed
// longest ago (one still on its first walk counts as oldest). c.mu is
// held.
func (c *companyCache) evict(now time.Time) {
	if len(c.entries) < c.size {
		return
	}
	for k, e := range c.entries {
		if e.walk == nil && !now.Before(e.listedAt.Add(c.ttl)) {
			delete(c.entries, k)
		}
	}
	for len(c.entries) >= c.size {
		var oldest cacheKey
		var at time.Time
		first := true
		for k, e := range c.entries {
			if first || e.listedAt.Before(at) {
				oldest, at, first = k, e.listedAt, false
			}
		}
		delete(c.entries, oldest)
	}
}

// count returns the number of connections cached or being walked.
func (c *companyCache) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
