package refresh

import (
	"context"
	"log/slog"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

// Broker is what the loop needs from [broker.Broker].
type Broker interface {
	Due(ctx context.Context, ahead, idleMargin time.Duration, limit int) ([]store.Connection, error)
	Refresh(ctx context.Context, id string) (broker.Token, error)
	Purge(ctx context.Context) (int, error)
	NoticeReauth(ctx context.Context, thresholds []time.Duration, limit int) (int, error)
}

// Loop refreshes due connections every Interval. The zero value is not
// usable; set Broker. Run it once per process: replicas coordinate through
// the broker's leases.
type Loop struct {
	Broker Broker
	Logger *slog.Logger
	// Interval between sweeps (default 1 min).
	Interval time.Duration
	// Ahead refreshes access tokens expiring within this (default 10 min).
	Ahead time.Duration
	// IdleMargin refreshes grants whose inactivity lifetime ends within this
	// (default 5 days), so an unused grant never lapses.
	IdleMargin time.Duration
	// ReauthNotices: a reauth_due event is sent once when a grant's
	// absolute lifetime ends within each of these (the config's default is
	// 30 and 7 days); empty sends none. Every replica may run the loop:
	// the broker sends each notice once (see [broker.Broker.NoticeReauth]).
	ReauthNotices []time.Duration
	// Batch bounds the connections handled per sweep, for refreshes and
	// for notices each (default 100).
	Batch int
}

// Run sweeps until ctx is done.
func (l *Loop) Run(ctx context.Context) error {
	interval := orDefault(l.Interval, time.Minute)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		l.Sweep(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Sweep does one pass: it purges expired connect sessions, refreshes the
// connections due, sends the reauth notices due, and returns how many
// connections it refreshed.
func (l *Loop) Sweep(ctx context.Context) int {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if n, err := l.Broker.Purge(ctx); err != nil {
		log.WarnContext(ctx, "purge expired sessions", "err", err)
	} else if n > 0 {
		log.DebugContext(ctx, "purged expired sessions", "count", n)
	}
	batch := l.Batch
	if batch <= 0 {
		batch = 100
	}
	due, err := l.Broker.Due(ctx, orDefault(l.Ahead, 10*time.Minute), orDefault(l.IdleMargin, 120*time.Hour), batch)
	if err != nil {
		log.ErrorContext(ctx, "list connections due for refresh", "err", err)
		return 0
	}
	done := 0
	for _, c := range due {
		if ctx.Err() != nil {
			break
		}
		if _, err := l.Broker.Refresh(ctx, c.ID); err != nil {
			log.WarnContext(ctx, "background refresh", "connection_id", c.ID, "code", broker.CodeOf(err), "err", err)
			continue
		}
		done++
	}
	if len(l.ReauthNotices) > 0 && ctx.Err() == nil {
		if n, err := l.Broker.NoticeReauth(ctx, l.ReauthNotices, batch); err != nil {
			log.ErrorContext(ctx, "send reauth notices", "err", err)
		} else if n > 0 {
			log.InfoContext(ctx, "sent reauth notices", "count", n)
		}
	}
	return done
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
