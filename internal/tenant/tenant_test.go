package tenant_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/tenant"
)

func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), storetest.NewSQLite(t), nil)
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func TestCreateStoresTenantAndHashedKey(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	got, key, err := tenant.Create(ctx, st, "  Example MSP ", now)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	want := store.Tenant{ID: got.ID, Name: "Example MSP", CreatedAt: now}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Create tenant (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(got.ID, "ten_") {
		t.Errorf("tenant id %q lacks the ten_ prefix", got.ID)
	}
	if !tenant.LooksLikeKey(key) {
		t.Errorf("key %q does not look like a key", key)
	}
	stored, err := st.GetTenant(ctx, got.ID)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored tenant (-want +got):\n%s", diff)
	}
	k, err := st.GetAPIKeyByHash(ctx, tenant.HashKey(key))
	if err != nil {
		t.Fatalf("GetAPIKeyByHash: %v", err)
	}
	if k.TenantID != got.ID {
		t.Errorf("key tenant = %q, want %q", k.TenantID, got.ID)
	}
	if !strings.HasPrefix(key, k.Prefix) || len(k.Prefix) != 12 {
		t.Errorf("stored prefix %q is not the 12-character start of the key", k.Prefix)
	}
	sum := sha256.Sum256([]byte(key))
	if diff := cmp.Diff(sum[:], k.Hash); diff != "" {
		t.Errorf("stored hash is not SHA-256 of the key (-want +got):\n%s", diff)
	}
}

func TestKeysAreDistinctAndRandom(t *testing.T) {
	st := newStore(t)
	ten, first, err := tenant.Create(t.Context(), st, "a", now)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	seen := map[string]bool{first: true}
	for range 50 {
		k, err := tenant.NewKey(t.Context(), st, ten.ID, now)
		if err != nil {
			t.Fatalf("NewKey: %v", err)
		}
		if seen[k] {
			t.Fatalf("NewKey returned %q twice", k)
		}
		seen[k] = true
		// Every key keeps working.
		if _, err := st.GetAPIKeyByHash(t.Context(), tenant.HashKey(k)); err != nil {
			t.Errorf("GetAPIKeyByHash(new key): %v", err)
		}
	}
	if _, err := st.GetAPIKeyByHash(t.Context(), tenant.HashKey(first)); err != nil {
		t.Errorf("first key no longer found: %v", err)
	}
	if _, err := st.GetAPIKeyByHash(t.Context(), tenant.HashKey(first+"x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAPIKeyByHash(altered key) error = %v, want ErrNotFound", err)
	}
}

func TestCreateRejectsBadNames(t *testing.T) {
	st := newStore(t)
	for _, name := range []string{"", "   ", strings.Repeat("x", 201)} {
		if _, _, err := tenant.Create(t.Context(), st, name, now); err == nil {
			t.Errorf("Create(%q) succeeded, want an error", name)
		}
	}
	ts, err := st.ListTenants(t.Context())
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	if len(ts) != 0 {
		t.Errorf("ListTenants after rejected creates = %v, want none", ts)
	}
}

func TestNewKeyUnknownTenant(t *testing.T) {
	st := newStore(t)
	_, err := tenant.NewKey(t.Context(), st, "ten_missing", now)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("NewKey(unknown tenant) error = %v, want ErrNotFound", err)
	}
}

func TestLooksLikeKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"gdk_" + strings.Repeat("A", 43), true},
		{"gdk_" + strings.Repeat("A", 42), false},
		{"xdk_" + strings.Repeat("A", 43), false},
		{"", false},
	} {
		if got := tenant.LooksLikeKey(tc.in); got != tc.want {
			t.Errorf("LooksLikeKey(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
