package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

// TenantHeader lets the admin key act as one tenant.
const TenantHeader = "X-Grantd-Tenant"

// TenantFrom returns the tenant the request acts as, set by the
// authentication of [Server.Handle] and [Server.RequireTenant].
func TenantFrom(ctx context.Context) (tenantID string, ok bool) {
	if i := httpapi.InfoFrom(ctx); i != nil && i.Principal.TenantID != "" {
		return i.Principal.TenantID, true
	}
	return "", false
}

// caller is who a request authenticated as.
type caller struct {
	tenantID string
	admin    bool
}

var (
	errNoKey      = &httpapi.Error{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: "an API key is required: send Authorization: Bearer <key>"}
	errBadKey     = &httpapi.Error{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: "the API key is not valid"}
	errAdminOnly  = &httpapi.Error{Status: http.StatusForbidden, Code: codeForbidden, Message: "this route needs the admin key"}
	errNeedTenant = &httpapi.Error{Status: http.StatusBadRequest, Code: codeInvalidRequest, Message: "the admin key must name a tenant in the " + TenantHeader + " header to call this route"}
)

// routeAuth is the [httpapi.Authenticator] of routes of one kind: the
// tenant and admin keys, behind the failed-authentication limit.
type routeAuth struct {
	s    *Server
	kind authKind
}

var _ httpapi.Authenticator = routeAuth{}

// Authenticate implements [httpapi.Authenticator].
func (a routeAuth) Authenticate(w http.ResponseWriter, r *http.Request) (httpapi.Principal, error) {
	return a.s.limitedAuthorize(w, r, a.kind)
}

// authenticate identifies the caller from the Authorization header.
func (s *Server) authenticate(r *http.Request) (caller, error) {
	key, ok := bearer(r.Header["Authorization"])
	if !ok {
		return caller{}, errNoKey
	}
	if s.adminHash != nil {
		sum := sha256.Sum256([]byte(key))
		if subtle.ConstantTimeCompare(sum[:], s.adminHash) == 1 {
			return caller{admin: true}, nil
		}
	}
	if !tenant.LooksLikeKey(key) {
		return caller{}, errBadKey
	}
	id, err := s.keys.lookup(r.Context(), s.store, key, s.now())
	if err != nil {
		return caller{}, err
	}
	return caller{tenantID: id}, nil
}

// tenantOf resolves the tenant a tenant route acts for.
func (s *Server) tenantOf(r *http.Request, c caller) (string, error) {
	if !c.admin {
		return c.tenantID, nil
	}
	id := r.Header.Get(TenantHeader)
	if id == "" {
		return "", errNeedTenant
	}
	if _, err := s.store.GetTenant(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", &httpapi.Error{Status: http.StatusNotFound, Code: codeNotFound, Message: "tenant " + id + " not found", Err: err}
		}
		return "", err
	}
	return id, nil
}

// bearer extracts the credential of "Authorization: Bearer <key>"; the
// scheme is case-insensitive (RFC 6750 §2.1, RFC 9110 §11.1).
func bearer(h []string) (string, bool) {
	if len(h) != 1 {
		return "", false
	}
	v := h[0]
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	key := strings.TrimSpace(v[len(scheme):])
	return key, key != ""
}

// keyCache remembers which tenant a key hash belongs to for a few seconds,
// so the hot path does not read the database. A miss (unknown key) is
// remembered for a shorter time, so a just-created key works within
// negTTL and a flood of bad keys does not reach the store. At most max
// entries are kept; when full, expired entries go first, then arbitrary
// ones. It is safe for concurrent use.
type keyCache struct {
	ttl, negTTL time.Duration
	max         int

	mu      sync.RWMutex
	entries map[[sha256.Size]byte]keyEntry

	// touched is when this process last wrote each key's LastUsedAt, in
	// Unix nanoseconds.
	touchedMu sync.RWMutex
	touched   map[string]*atomic.Int64
}

type keyEntry struct {
	tenantID  string // "" for a remembered miss
	keyID     string
	expiresAt time.Time // zero: never
	until     time.Time
}

func newKeyCache(ttl, negTTL time.Duration, max int) *keyCache {
	return &keyCache{ttl: ttl, negTTL: negTTL, max: max, entries: make(map[[sha256.Size]byte]keyEntry), touched: make(map[string]*atomic.Int64)}
}

func (c *keyCache) lookup(ctx context.Context, st store.Store, key string, now time.Time) (string, error) {
	h := sha256.Sum256([]byte(key))
	c.mu.RLock()
	e, ok := c.entries[h]
	c.mu.RUnlock()
	if ok && now.Before(e.until) {
		if e.tenantID == "" {
			return "", errBadKey
		}
		return c.use(ctx, st, e, now)
	}
	k, err := st.GetAPIKeyByHash(ctx, h[:])
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.put(h, keyEntry{until: now.Add(c.negTTL)}, now)
		return "", errBadKey
	case err != nil:
		return "", err
	}
	e = keyEntry{tenantID: k.TenantID, keyID: k.ID, expiresAt: k.ExpiresAt, until: now.Add(c.ttl)}
	c.put(h, e, now)
	return c.use(ctx, st, e, now)
}

func (c *keyCache) put(h [sha256.Size]byte, e keyEntry, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[h]; !ok && len(c.entries) >= c.max {
		for k, v := range c.entries {
			if !now.Before(v.until) {
				delete(c.entries, k)
			}
		}
		// Still full: drop arbitrary entries (map order is random).
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[h] = e
}

func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
