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
	_, key, err := CreateKey(ctx, st, tenantID, KeyOptions{}, now)
	return key, err
}

// KeyOptions describe a new API key.
type KeyOptions struct {
	// Name labels the key in lists ("billing job"); at most 100 bytes.
	Name string
	// ExpiresAt is when the key stops working; zero means never. It must
	// be after now.
	ExpiresAt time.Time
}

// maxKeyNameLen bounds a key's name.
const maxKeyNameLen = 100

// CreateKey creates another API key for tenantID with opts and returns
// the stored row and the key, which is not stored and cannot be shown
// again. Earlier keys stay valid, so a key is rotated by creating a new
// one, switching to it, and revoking the old one with [RevokeKey]. It
// returns an error wrapping [store.ErrNotFound] when the tenant does not
// exist and [ErrInvalidKeyOptions] for bad options.
func CreateKey(ctx context.Context, st store.Store, tenantID string, opts KeyOptions, now time.Time) (store.APIKey, string, error) {
	opts.Name = strings.TrimSpace(opts.Name)
	if len(opts.Name) > maxKeyNameLen {
		return store.APIKey{}, "", fmt.Errorf("%w: name is longer than %d bytes", ErrInvalidKeyOptions, maxKeyNameLen)
	}
	if !opts.ExpiresAt.IsZero() && !opts.ExpiresAt.After(now) {
		return store.APIKey{}, "", fmt.Errorf("%w: expires_at must be in the future", ErrInvalidKeyOptions)
	}
	if _, err := st.GetTenant(ctx, tenantID); err != nil {
		return store.APIKey{}, "", fmt.Errorf("new key for tenant %s: %w", tenantID, err)
	}
	key := generate()
	k := store.APIKey{
		ID:        newID("key"),
		TenantID:  tenantID,
		Hash:      HashKey(key),
		Prefix:    key[:shownPrefixLen],
		Name:      opts.Name,
		CreatedAt: now.UTC(),
		ExpiresAt: opts.ExpiresAt.UTC(),
	}
	if opts.ExpiresAt.IsZero() {
		k.ExpiresAt = time.Time{}
	}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return store.APIKey{}, "", fmt.Errorf("store key for tenant %s: %w", tenantID, err)
	}
	return k, key, nil
}

// ErrInvalidKeyOptions is wrapped by CreateKey's errors about its options.
var ErrInvalidKeyOptions = errors.New("invalid key options")

// RevokeKey deletes tenantID's key keyID, which stops working at once in
// this process and within the API's key cache TTL elsewhere. Another
// tenant's key is [store.ErrNotFound].
func RevokeKey(ctx context.Context, st store.Store, tenantID, keyID string) error {
	if err := st.DeleteAPIKey(ctx, tenantID, keyID); err != nil {
		return fmt.Errorf("revoke key %s: %w", keyID, err)
	}
	return nil
}

// Expired reports whether k no longer works at now.
func Expired(k store.APIKey, now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
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
