package api

import (
	"context"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

// touchEvery bounds how often a key's LastUsedAt is written: at most once
// a minute per key and process, and the store skips the write when another
// replica wrote within the minute.
const touchEvery = time.Minute

var errKeyExpired = &Error{Status: http.StatusUnauthorized, Code: codeUnauthorized, Msg: "the API key has expired; create a new one"}

// use checks that the key of e has not expired and records its use,
// cheaply, and returns its tenant.
func (c *keyCache) use(ctx context.Context, st store.Store, e keyEntry, now time.Time) (string, error) {
	if tenant.Expired(store.APIKey{ExpiresAt: e.expiresAt}, now) {
		return "", errKeyExpired
	}
	if e.keyID == "" {
		return e.tenantID, nil
	}
	c.touchedMu.Lock()
	last, ok := c.touched[e.keyID]
	due := !ok || now.Sub(last) >= touchEvery
	if due {
		if len(c.touched) >= c.max {
			clear(c.touched)
		}
		c.touched[e.keyID] = now
	}
	c.touchedMu.Unlock()
	if due {
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
