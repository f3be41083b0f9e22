package broker

import (
	"context"
	"time"

	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// The schedule is data (DESIGN.md, "The scheduler is data"): every write
// of a connection through the broker's store recomputes NextRefreshAt from
// the row itself, so replicas only have to claim the rows that are due
// (store.ClaimDue), and a row that can never be refreshed is due at once,
// to be marked needs_reauth by whoever claims it.

// margin is how long before its access token expires connection c is
// refreshed: the provider's refresh.margin, or the broker's ExpiryMargin,
// capped at half the token's lifetime so that a short-lived token is
// refreshed once per lifetime rather than on every call.
func (b *Broker) margin(p provider.Provider, c store.Connection) time.Duration {
	m := p.Refresh.Margin.D()
	if m <= 0 {
		m = b.opts.ExpiryMargin
	}
	if !c.LastRefreshAt.IsZero() && !c.AccessExpiresAt.IsZero() {
		if life := c.AccessExpiresAt.Sub(c.LastRefreshAt); life > 0 && m > life/2 {
			m = life / 2
		}
	}
	return m
}

// connMargin is margin with c's own provider, or ExpiryMargin when it is
// no longer configured.
func (b *Broker) connMargin(c store.Connection) time.Duration {
	if p, ok := b.reg.Get(c.Provider); ok {
		return b.margin(p, c)
	}
	return b.opts.ExpiryMargin
}

// idleMargin is how long before the refresh token's inactivity deadline an
// idle grant is refreshed to keep it alive: the broker's IdleMargin,
// capped at half the provider's idle lifetime.
func (b *Broker) idleMargin(p provider.Provider) time.Duration {
	m := b.opts.IdleMargin
	if idle := p.RefreshToken.IdleLifetime.D(); idle > 0 && m > idle/2 {
		m = idle / 2
	}
	return m
}

// nextRefresh is when c must next be refreshed with p, or zero when never:
//   - a connection that is not active is never refreshed;
//   - one that can never be refreshed (a refresh-token grant without a
//     refresh token) or whose refresh was interrupted is due at once;
//   - otherwise the earliest of the access token's expiry less the margin,
//     the idle deadline less the idle margin (while a refresh can still
//     extend it, that is before the absolute end) and the absolute end,
//     pushed back to the end of a backoff.
func (b *Broker) nextRefresh(p provider.Provider, c store.Connection) time.Time {
	if c.Status != store.StatusActive {
		return time.Time{}
	}
	// epoch sorts first among due rows: handled at once, and they leave
	// the schedule as soon as they are.
	epoch := time.Unix(0, 0).UTC()
	var next time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	refreshable := p.Grant != provider.AuthorizationCode || len(c.RefreshToken) > 0
	if !refreshable || c.RefreshAttempt != "" || len(c.AccessToken) == 0 {
		next = epoch
	}
	if !c.AccessExpiresAt.IsZero() {
		earlier(c.AccessExpiresAt.Add(-b.margin(p, c)))
	}
	if p.Grant == provider.AuthorizationCode {
		idle, abs := c.RefreshIdleExpiresAt, c.RefreshExpiresAt
		if !idle.IsZero() && (abs.IsZero() || idle.Before(abs)) {
			earlier(idle.Add(-b.idleMargin(p)))
		}
		earlier(abs)
	}
	if !next.IsZero() && c.NextAttemptAt.After(next) {
		next = c.NextAttemptAt
	}
	return next.UTC()
}

// schedule sets c.NextRefreshAt from the rest of the row.
func (b *Broker) schedule(c *store.Connection) {
	p, ok := b.reg.Get(c.Provider)
	if !ok {
		// An unknown provider cannot be refreshed; the row waits for
		// the operator to configure it again, and is not claimed.
		c.NextRefreshAt = time.Time{}
		return
	}
	c.NextRefreshAt = b.nextRefresh(p, *c)
}

// due reports whether c's schedule has come at now.
func (b *Broker) due(p provider.Provider, c store.Connection, now time.Time) bool {
	next := b.nextRefresh(p, c)
	return !next.IsZero() && !next.After(now)
}

// scheduled is the broker's view of its store: every connection it
// creates or updates gets its NextRefreshAt recomputed in the same write,
// so no write path can leave a stale schedule behind.
type scheduled struct {
	store.Store
	b *Broker
}

// CreateConnection implements [store.Store].
func (s scheduled) CreateConnection(ctx context.Context, c store.Connection) error {
	s.b.schedule(&c)
	err := s.Store.CreateConnection(ctx, c)
	if err == nil {
		s.b.scheduledAt(c.NextRefreshAt)
	}
	return err
}

// UpdateConnection implements [store.Store].
func (s scheduled) UpdateConnection(ctx context.Context, id string, update func(store.Connection) (store.Connection, error)) (store.Connection, error) {
	nc, err := s.Store.UpdateConnection(ctx, id, func(cur store.Connection) (store.Connection, error) {
		nc, err := update(cur)
		if err == nil {
			s.b.schedule(&nc)
		}
		return nc, err
	})
	if err == nil {
		s.b.scheduledAt(nc.NextRefreshAt)
	}
	return nc, err
}

func (b *Broker) scheduledAt(next time.Time) {
	if b.opts.OnSchedule != nil && !next.IsZero() {
		b.opts.OnSchedule(next)
	}
}
