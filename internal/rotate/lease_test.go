package rotate_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/rotate"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/vault"
)

// signalFirstUpdate is the real store, closing tried once the first
// update of connection id has returned, whatever its outcome.
type signalFirstUpdate struct {
	store.Store
	id    string
	tried chan struct{}
}

func (s *signalFirstUpdate) UpdateConnection(ctx context.Context, id string, f func(store.Connection) (store.Connection, error)) (store.Connection, error) {
	c, err := s.Store.UpdateConnection(ctx, id, f)
	if id == s.id && s.tried != nil {
		close(s.tried)
		s.tried = nil
	}
	return c, err
}

// TestRewrapWaitsForRefreshLease is ENC-05 ("interrupting rewrap loses 0
// rows") and RT-03 together: a rewrap that runs while a replica holds a
// connection's refresh lease must not move the row's version under the
// refresh, whose version-checked write of the rotated refresh token would
// then fail and lose it. The rewrap waits for the lease, and then reseals
// what the refresh wrote.
func TestRewrapWaitsForRefreshLease(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return storetest.NewSQLite(t) }},
		{"postgres", func(t *testing.T) string { return storetest.NewPostgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st, err := sqlstore.Open(ctx, tc.dsn(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			k1, k2 := key(t, 1), key(t, 2)
			plain := seed(t, st, keyring(t, 1, k1), 3)
			both := keyring(t, 2, k1, k2)

			// A replica (already on the new primary key) starts refreshing
			// conn_001.
			const id, owner = "conn_001", "replica-a"
			now := time.Now()
			leased, owned, err := st.AcquireLease(ctx, id, owner, now, now.Add(time.Hour))
			if err != nil || !owned {
				t.Fatalf("AcquireLease = %v, %v; want owned", owned, err)
			}

			ws := &signalFirstUpdate{Store: st, id: id, tried: make(chan struct{})}
			tried := ws.tried
			done := make(chan error, 1)
			var rep rotate.Report
			go func() {
				var err error
				rep, err = rotate.Rewrap(ctx, ws, both)
				done <- err
			}()
			select {
			case <-tried:
			case err := <-done:
				t.Fatalf("Rewrap returned (%v) before trying the leased connection", err)
			}

			// The refresh finishes: it stores the rotated refresh token only
			// if nobody wrote the row meanwhile, and clears its lease, as
			// the broker does.
			aad := vault.AAD("connection", id, "refresh_token")
			plain[aad] = "rotated-refresh-token"
			rt, err := both.Seal([]byte(plain[aad]), aad)
			if err != nil {
				t.Fatal(err)
			}
			_, err = st.UpdateConnection(ctx, id, func(cur store.Connection) (store.Connection, error) {
				if cur.Version != leased.Version || cur.LeaseOwner != owner {
					return cur, store.ErrConflict
				}
				cur.RefreshToken = rt
				cur.LeaseOwner, cur.LeaseExpiresAt = "", time.Time{}
				return cur, nil
			})
			if errors.Is(err, store.ErrConflict) {
				t.Fatal("the refresh could not store its rotated refresh token: Rewrap wrote the leased row")
			}
			if err != nil {
				t.Fatal(err)
			}

			if err := <-done; err != nil {
				t.Fatalf("Rewrap: %v", err)
			}
			if !rep.Done() {
				t.Errorf("Rewrap report %+v, want done", rep)
			}
			openAll(t, st, keyring(t, 2, k2), plain)
		})
	}
}
