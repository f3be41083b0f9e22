package storm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grantd/grantd/internal/app"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// seedScopes are the scopes of every seeded grant: Pax8's API scope and
// offline_access, without openid, so that the sandbox signs one token per
// refresh and its CPU stays with grantd.
var seedScopes = []string{"Manage:Pax8Data", "offline_access"}

// seed mints n grants at the sandbox and stores n active Pax8 connections
// holding them, spread over tenants, sealed as the broker seals them. They
// are not due: their access tokens expire in a day, so nothing refreshes
// them until [rig.makeDue]. It returns the connection IDs.
func (r *rig) seed(ctx context.Context, n, tenants int, progress func(done int)) ([]string, error) {
	now := time.Now().UTC()
	// The keyring's fingerprint, as grantd records it at its first start,
	// before any connection exists; without it a replica would check the
	// keys by reading the stored connections (an older grantd's database).
	if err := r.st.PutMeta(ctx, app.MetaVaultFingerprint, r.keys.Fingerprint()); err != nil {
		return nil, fmt.Errorf("record the vault fingerprint: %w", err)
	}
	tenantIDs := make([]string, tenants)
	for i := range tenantIDs {
		tenantIDs[i] = "ten_storm" + strings.ToLower(rand.Text()[:12])
		if err := r.st.CreateTenant(ctx, store.Tenant{ID: tenantIDs[i], Name: fmt.Sprintf("Storm MSP %d", i+1), CreatedAt: now}); err != nil {
			return nil, fmt.Errorf("create tenant: %w", err)
		}
	}
	grants := make([]sandbox.MintedGrant, 0, n)
	err := r.sb.MintGrants(sandbox.BulkGrants{ClientID: clientID, Count: n, Scopes: seedScopes}, func(g sandbox.MintedGrant) error {
		grants = append(grants, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mint grants: %w", err)
	}

	ids := make([]string, n)
	next := atomic.Int64{}
	var done atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	writers := 8
	if r.label != "PostgreSQL" {
		writers = 2 // one SQLite writer at a time anyway
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := r.connection(grants[i], tenantIDs[i%tenants], now)
				if err == nil {
					err = r.st.CreateConnection(ctx, c)
				}
				if err != nil {
					select {
					case errc <- fmt.Errorf("seed connection %d: %w", i, err):
					default:
					}
					cancel()
					return
				}
				ids[i] = c.ID
				if d := done.Add(1); progress != nil && d%5000 == 0 {
					progress(int(d))
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return ids, nil
}

// connection is the row the broker would have stored after the consent
// that created g, a little while ago.
func (r *rig) connection(g sandbox.MintedGrant, tenantID string, now time.Time) (store.Connection, error) {
	id := "conn_" + strings.ToLower(rand.Text()[:20])
	seal := func(field, v string) (store.Sealed, error) {
		return r.keys.Seal([]byte(v), vault.AAD("connection", id, field))
	}
	access, err := seal("access_token", "storm-expired-"+rand.Text())
	if err != nil {
		return store.Connection{}, err
	}
	refresh, err := seal("refresh_token", g.RefreshToken)
	if err != nil {
		return store.Connection{}, err
	}
	connected := now.Add(-time.Hour)
	c := store.Connection{
		ID:                   id,
		TenantID:             tenantID,
		IntegrationID:        "pax8",
		Provider:             sandbox.Pax8,
		Status:               store.StatusActive,
		Subject:              g.Subject,
		Scopes:               seedScopes,
		TokenType:            "Bearer",
		AccessToken:          access,
		RefreshToken:         refresh,
		AccessExpiresAt:      now.Add(24 * time.Hour),
		RefreshExpiresAt:     connected.Add(8766 * time.Hour),
		RefreshIdleExpiresAt: connected.Add(720 * time.Hour),
		LastRefreshAt:        connected,
		ConnectedAt:          connected,
		CreatedAt:            connected,
		UpdatedAt:            connected,
	}
	c.NextRefreshAt = now.Add(23 * time.Hour)
	return c, nil
}

// makeDue expires every connection's access token and makes it due now,
// at once, straight in SQL, so that all
// replicas see the whole fleet due at the same instant. It returns when
// the change is committed.
func (r *rig) makeDue(ctx context.Context) (time.Time, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	expired := now.Add(-time.Minute)
	res, err := r.st.SQL().ExecContext(ctx, "UPDATE connections SET access_expires_at = $1, next_refresh_at = $2 WHERE status = 'active'",
		r.timeArg(expired), r.timeArg(now))
	if err != nil {
		return now, fmt.Errorf("make connections due: %w", err)
	}
	if _, err := res.RowsAffected(); err != nil {
		return now, err
	}
	return now, nil
}

// refreshedSince counts the connections refreshed at or after t, and those
// no longer active.
func (r *rig) refreshedSince(ctx context.Context, t time.Time) (refreshed, inactive int, err error) {
	err = r.st.SQL().QueryRowContext(ctx,
		`SELECT COUNT(*) FILTER (WHERE last_refresh_at >= $1), COUNT(*) FILTER (WHERE status <> 'active') FROM connections`,
		r.timeArg(t)).Scan(&refreshed, &inactive)
	if err != nil {
		return 0, 0, fmt.Errorf("count refreshed connections: %w", err)
	}
	return refreshed, inactive, nil
}

// timeArg encodes t as the store does: unix microseconds on SQLite.
func (r *rig) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if r.st.Dialect() == "sqlite" {
		return t.UnixMicro()
	}
	return t
}

var errTimeout = errors.New("not drained in time")
