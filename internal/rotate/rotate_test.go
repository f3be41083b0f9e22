package rotate_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/rotate"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/vault"
)

// cancelAfter is the real store, cancelling ctx after n connection updates,
// to interrupt a rewrap part way.
type cancelAfter struct {
	store.Store
	n      int
	cancel context.CancelFunc
}

func (s *cancelAfter) UpdateConnection(ctx context.Context, id string, f func(store.Connection) (store.Connection, error)) (store.Connection, error) {
	c, err := s.Store.UpdateConnection(ctx, id, f)
	if s.n--; s.n == 0 {
		s.cancel()
	}
	return c, err
}

func key(t *testing.T, id uint32) vault.Key {
	t.Helper()
	k, err := vault.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyring(t *testing.T, primary uint32, keys ...vault.Key) *vault.Keyring {
	t.Helper()
	kr, err := vault.New(keys, primary)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// seed stores an integration and conns connections with every secret
// sealed under kr, and returns the plaintexts by AAD.
func seed(t *testing.T, st store.Store, kr *vault.Keyring, conns int) map[string]string {
	t.Helper()
	ctx := t.Context()
	plain := map[string]string{}
	seal := func(table, id, field string) store.Sealed {
		aad := vault.AAD(table, id, field)
		plain[aad] = fmt.Sprintf("secret-%s-%d", aad, time.Now().UnixNano())
		ct, err := kr.Seal([]byte(plain[aad]), aad)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	now := time.Now().UTC()
	if err := st.CreateTenant(ctx, store.Tenant{ID: "ten_a", Name: "A", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []store.Integration{
		{ID: "int_op", Provider: "pax8", Name: "op", ClientID: "c1"},
		{ID: "int_a", TenantID: "ten_a", Provider: "pax8", Name: "a", ClientID: "c2"},
	} {
		in.ClientSecret = seal("integration", in.ID, "client_secret")
		in.CreatedAt, in.UpdatedAt = now, now
		if err := st.CreateIntegration(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for i := range conns {
		id := fmt.Sprintf("conn_%03d", i)
		c := store.Connection{ID: id, TenantID: "ten_a", IntegrationID: "int_a", Provider: "pax8", Status: store.StatusActive,
			AccessToken: seal("connection", id, "access_token"), RefreshToken: seal("connection", id, "refresh_token"),
			IDToken: seal("connection", id, "id_token"), CreatedAt: now, UpdatedAt: now}
		if err := st.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return plain
}

// openAll checks every stored secret opens under kr to its plaintext.
func openAll(t *testing.T, st store.Store, kr *vault.Keyring, plain map[string]string) {
	t.Helper()
	got := map[string]string{}
	open := func(ct store.Sealed, aad string) {
		pt, err := kr.Open(ct, aad)
		if err != nil {
			t.Errorf("open %s: %v", aad, err)
			return
		}
		got[aad] = string(pt)
	}
	cs, err := st.ListConnections(t.Context(), store.ConnectionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		open(c.AccessToken, vault.AAD("connection", c.ID, "access_token"))
		open(c.RefreshToken, vault.AAD("connection", c.ID, "refresh_token"))
		open(c.IDToken, vault.AAD("connection", c.ID, "id_token"))
	}
	for _, id := range []string{"int_op", "int_a"} {
		in, err := st.GetIntegration(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		open(in.ClientSecret, vault.AAD("integration", id, "client_secret"))
	}
	if diff := cmp.Diff(plain, got); diff != "" {
		t.Errorf("secrets after rotation (-want +got):\n%s", diff)
	}
}

// TestRewrapENC05 walks a whole rotation on each backend: K2 becomes
// primary, a rewrap is interrupted part way (nothing is lost, old and new
// keys both open), a second run finishes, and then K1 is removed and every
// secret still opens.
func TestRewrapENC05(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return storetest.NewSQLite(t) }},
		{"postgres", func(t *testing.T) string { return storetest.NewPostgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := sqlstore.Open(t.Context(), tc.dsn(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			k1, k2 := key(t, 1), key(t, 2)
			plain := seed(t, st, keyring(t, 1, k1), 10)

			both := keyring(t, 2, k1, k2)
			inv, err := rotate.Inventory(t.Context(), st, both)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[uint32]int{1: 32}, inv); diff != "" {
				t.Errorf("inventory before (-want +got):\n%s", diff)
			}

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if _, err := rotate.Rewrap(ctx, &cancelAfter{Store: st, n: 4, cancel: cancel}, both); err == nil {
				t.Fatal("interrupted Rewrap returned no error")
			}
			inv, _ = rotate.Inventory(t.Context(), st, both)
			if inv[1] == 0 || inv[2] == 0 || inv[1]+inv[2] != 32 {
				t.Errorf("inventory after interruption = %v, want both keys in use, 32 values", inv)
			}
			openAll(t, st, both, plain)

			rep, err := rotate.Rewrap(t.Context(), st, both)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Done() || rep.ByKey[2] != 32 || rep.Resealed != inv[1] {
				t.Errorf("report %+v, want done, 32 under key 2, %d resealed", rep, inv[1])
			}
			again, err := rotate.Rewrap(t.Context(), st, both)
			if err != nil || again.Resealed != 0 {
				t.Errorf("second full run resealed %d (%v), want 0", again.Resealed, err)
			}
			openAll(t, st, keyring(t, 2, k2), plain)
		})
	}
}
