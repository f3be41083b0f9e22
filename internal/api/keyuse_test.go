package api

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/tenant"
)

// touchCounter is the real SQLite store, counting LastUsedAt writes.
type touchCounter struct {
	store.Store
	touches atomic.Int64
}

func (c *touchCounter) TouchAPIKey(ctx context.Context, id string, now, notBefore time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchAPIKey(ctx, id, now, notBefore)
}

// TestKeyUseIsCheap checks that a key's last use is written at most once a
// minute however often it authenticates, cached or not, and that an
// expired key is refused from the cache as from the store.
func TestKeyUseIsCheap(t *testing.T) {
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "grantd.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &touchCounter{Store: db}
	now := time.Now().UTC().Truncate(time.Microsecond)
	tn, _, err := tenant.Create(ctx, st, "Acme", now)
	if err != nil {
		t.Fatal(err)
	}
	k, key, err := tenant.CreateKey(ctx, st, tn.ID, tenant.KeyOptions{Name: "ci", ExpiresAt: now.Add(time.Hour)}, now)
	if err != nil {
		t.Fatal(err)
	}
	c := newKeyCache(5*time.Second, time.Second, 100)
	for i, step := range []struct {
		at   time.Duration
		want int64
	}{{0, 1}, {time.Second, 1}, {30 * time.Second, 1}, {61 * time.Second, 2}, {90 * time.Second, 2}, {59 * time.Minute, 3}} {
		for range 50 {
			if id, err := c.lookup(ctx, st, key, now.Add(step.at)); err != nil || id != tn.ID {
				t.Fatalf("%d: lookup = %q, %v", i, id, err)
			}
		}
		if n := st.touches.Load(); n != step.want {
			t.Errorf("%d: after 50 uses at +%v: %d writes, want %d", i, step.at, n, step.want)
		}
	}
	// Both keys were created at now, so their order is the ids'.
	ks, _ := st.ListAPIKeys(ctx, tn.ID)
	i := slices.IndexFunc(ks, func(x store.APIKey) bool { return x.ID == k.ID })
	if len(ks) != 2 || i < 0 || !ks[i].LastUsedAt.Equal(now.Add(59*time.Minute)) {
		t.Errorf("keys = %+v, want %s last used at +59m", ks, k.ID)
	}
	// Past its expiry the key is refused, whether cached or read again.
	for _, at := range []time.Duration{time.Hour, time.Hour + time.Minute} {
		if _, err := c.lookup(ctx, st, key, now.Add(at)); !errors.Is(err, errKeyExpired) {
			t.Errorf("lookup at +%v = %v, want expired", at, err)
		}
	}
}
