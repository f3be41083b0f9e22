package broker

import (
	"sync"
	"time"
)

// tokenCache holds valid access tokens in memory for a short time so the
// hot path of Token does not read the database. An entry is served until the
// earlier of its TTL and the token's refresh point, so a cached token is
// never one the store would refresh.
type tokenCache struct {
	ttl     time.Duration
	mu      sync.RWMutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	tok   Token
	until time.Time
}

func (c *tokenCache) get(id string, now time.Time) (Token, bool) {
	if c.ttl <= 0 {
		return Token{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return Token{}, false
	}
	return e.tok, true
}

func (c *tokenCache) put(tok Token, now, refreshAt time.Time) {
	if c.ttl <= 0 {
		return
	}
	until := now.Add(c.ttl)
	if !refreshAt.IsZero() && refreshAt.Before(until) {
		until = refreshAt
	}
	c.mu.Lock()
	c.entries[tok.ConnectionID] = cacheEntry{tok: tok, until: until}
	c.mu.Unlock()
}

func (c *tokenCache) drop(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
