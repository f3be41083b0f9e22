package tenant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// KeyPrefix starts every tenant API key, so that a leaked key is easy to
// recognise in code scans.
const KeyPrefix = "gdk_"

// keyBytes is the entropy of a key: 256 bits from crypto/rand.
const keyBytes = 32

// shownPrefixLen is how many characters of a key are stored in the clear
// (KeyPrefix and 8 random characters, 48 bits): enough to tell keys apart
// in a list, far too little to guess the rest.
const shownPrefixLen = len(KeyPrefix) + 8

// maxNameLen bounds a tenant's display name.
const maxNameLen = 200

// Create stores a new tenant named name with one API key, and returns the
// tenant and the key. The key is not stored and cannot be shown again.
func Create(ctx context.Context, st store.Store, name string, now time.Time) (store.Tenant, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return store.Tenant{}, "", errors.New("tenant name is required")
	}
	if len(name) > maxNameLen {
		return store.Tenant{}, "", fmt.Errorf("tenant name is longer than %d bytes", maxNameLen)
	}
	t := store.Tenant{ID: newID("ten"), Name: name, CreatedAt: now.UTC()}
	if err := st.CreateTenant(ctx, t); err != nil {
		return store.Tenant{}, "", fmt.Errorf("create tenant: %w", err)
	}
	key, err := NewKey(ctx, st, t.ID, now)
	if err != nil {
		return store.Tenant{}, "", err
	}
	return t, key, nil
}

// NewKey creates another API key for tenantID and returns it. Earlier keys
// stay valid. It returns an error wrapping [store.ErrNotFound] when the
// tenant does not exist.
func NewKey(ctx context.Context, st store.Store, tenantID string, now time.Time) (string, error) {
	if _, err := st.GetTenant(ctx, tenantID); err != nil {
		return "", fmt.Errorf("new key for tenant %s: %w", tenantID, err)
	}
	key := generate()
	k := store.APIKey{
		ID:        newID("key"),
		TenantID:  tenantID,
		Hash:      HashKey(key),
		Prefix:    key[:shownPrefixLen],
		CreatedAt: now.UTC(),
	}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return "", fmt.Errorf("store key for tenant %s: %w", tenantID, err)
	}
	return key, nil
}

// HashKey returns the SHA-256 of key, as stored in [store.APIKey.Hash].
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// LooksLikeKey reports whether s has the shape of a tenant API key. It lets
// callers reject garbage without a lookup; it proves nothing.
func LooksLikeKey(s string) bool {
	return len(s) == len(KeyPrefix)+base64.RawURLEncoding.EncodedLen(keyBytes) && strings.HasPrefix(s, KeyPrefix)
}

func generate() string {
	var b [keyBytes]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go 1.24)
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// newID returns prefix_ and 20 random base32 characters (100 bits).
func newID(prefix string) string {
	return prefix + "_" + strings.ToLower(rand.Text()[:20])
}
