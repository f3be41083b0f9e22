package api

import (
	"context"
	"github.com/grantd/grantd/internal/httpapi"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

// touchEvery bounds how often a key's LastUsedAt is written: at most once
// a minute per key and process, and the store skips the write when another
// replica wrote within the minute.
const touchEvery = time.Minute

var errKeyExpired = &httpapi.Error{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: "the API key has expired; create a new one"}

// use checks that the key of e has not expired and records its use,
// cheaply, and returns its tenant.
func (c *keyCache) use(ctx context.Context, st store.Store, e keyEntry, now time.Time) (string, error) {
	if tenant.Expired(store.APIKey{ExpiresAt: e.expiresAt}, now) {
		return "", errKeyExpired
	}
	if e.keyID == "" {
		return e.tenantID, nil
	}
	// The hot path takes a read lock and an atomic load; only the first
	// use of a key in this process takes the write lock.
	c.touchedMu.RLock()
	last := c.touched[e.keyID]
	c.touchedMu.RUnlock()
	if last == nil {
		c.touchedMu.Lock()
		if last = c.touched[e.keyID]; last == nil {
			if len(c.touched) >= c.max {
				clear(c.touched)
			}
			last = new(atomic.Int64)
			c.touched[e.keyID] = last
		}
		c.touchedMu.Unlock()
	}
	prev := last.Load()
	if prev != 0 && now.UnixNano()-prev < int64(touchEvery) {
		return e.tenantID, nil
	}
	if last.CompareAndSwap(prev, now.UnixNano()) {
		// Best effort: a failed write only leaves LastUsedAt older.
		_ = st.TouchAPIKey(ctx, e.keyID, now, now.Add(-touchEvery))
	}
	return e.tenantID, nil
}

// forget drops the cached entries of key keyID, so a revoked key stops
// working in this process at once (other replicas forget it within the
// cache TTL).
func (c *keyCache) forget(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.entries {
		if e.keyID == keyID {
			delete(c.entries, h)
		}
	}
}

// forgetTenant drops the cached entries of every key of tenantID.
func (c *keyCache) forgetTenant(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.entries {
		if e.tenantID == tenantID {
			delete(c.entries, h)
		}
	}
}
