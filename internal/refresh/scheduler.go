package refresh

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/clock"
	"github.com/grantd/grantd/internal/store"
)

// Broker is what the scheduler needs from [broker.Broker].
type Broker interface {
	// Owner names this process in leases; claims are taken in its name.
	Owner() string
	// Store is where claims are made (the default Scheduler.Store).
	Store() store.Store
	// Now is the broker's time (the default Scheduler.Clock's).
	Now() time.Time
	// RefreshClaimed refreshes a connection this process claimed.
	RefreshClaimed(ctx context.Context, c store.Connection) error
	Purge(ctx context.Context) (int, error)
	NoticeReauth(ctx context.Context, thresholds []time.Duration, limit int) (int, error)
}

var _ Broker = (*broker.Broker)(nil)

// Claims is what the scheduler needs from the store.
type Claims interface {
	ClaimDue(ctx context.Context, owner string, now, until time.Time, limit int) ([]store.Connection, error)
	NextRefreshDue(ctx context.Context, now time.Time) (time.Time, error)
}

// Scheduler keeps every grant alive. Each connection carries when it must
// next be refreshed (store.Connection.NextRefreshAt, computed by the
// broker on every write); the scheduler claims the rows that are due,
// leased to this process in the same statement so that no two replicas
// claim one row, and drains them with Workers refreshes in parallel. It
// sleeps until the earliest NextRefreshAt falls due, or a worker frees up,
// or Wake is called, and at most Interval, since other replicas add rows
// too. Every Interval it also purges expired connect sessions and sends
// the reauth notices due.
//
// Set Broker; the rest have defaults. Run it once per
// process; replicas coordinate through their claims. A Scheduler must not
// be copied after first use.
type Scheduler struct {
	Broker Broker
	// Store is where due rows are claimed (default Broker.Store()).
	Store  Claims
	Logger *slog.Logger
	// Clock drives the sleeps and reads the time (default: the broker's
	// Now, with real timers); it must tell the same time as the broker.
	Clock clock.Clock
	// Workers bounds the refreshes in flight (default 8).
	Workers int
	// LeaseTTL is how long a claim holds a row: the broker's lease TTL
	// (default 1 min).
	LeaseTTL time.Duration
	// Interval is the longest sleep, and the period of the housekeeping
	// (default 1 min).
	Interval time.Duration
	// ReauthNotices: a reauth_due event is sent once when a grant's
	// absolute lifetime ends within each of these; empty sends none. The
	// broker sends each notice once across replicas.
	ReauthNotices []time.Duration
	// NoticeBatch bounds the notices sent per pass (default 100).
	NoticeBatch int
	// Registerer, when set, receives the scheduler's metrics.
	Registerer prometheus.Registerer

	once    sync.Once
	wake    chan struct{}
	metrics *metrics
}

// Wake makes a sleeping scheduler look for due rows now, such as after a
// write that scheduled a connection sooner than it planned to wake. It
// never blocks.
func (s *Scheduler) Wake() {
	s.init()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Scheduler) init() {
	s.once.Do(func() {
		s.wake = make(chan struct{}, 1)
		s.metrics = newMetrics(s.Registerer)
		if s.Clock == nil {
			s.Clock = clock.Func(s.Broker.Now)
		}
		if s.Store == nil {
			s.Store = s.Broker.Store()
		}
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.Workers <= 0 {
			s.Workers = 8
		}
		if s.Interval <= 0 {
			s.Interval = time.Minute
		}
		if s.NoticeBatch <= 0 {
			s.NoticeBatch = 100
		}
		if s.LeaseTTL <= 0 {
			s.LeaseTTL = time.Minute
		}
	})
}

// Run schedules until ctx is done, then waits for the refreshes in flight
// and returns ctx's error.
func (s *Scheduler) Run(ctx context.Context) error {
	s.init()
	var wg sync.WaitGroup
	defer wg.Wait()
	busy := make(chan struct{}, s.Workers) // one value per refresh in flight
	freed := make(chan struct{}, s.Workers)
	var housekeep time.Time
	idle := 0 // passes in a row that found nothing to do although rows seemed due
	for {
		now := s.Clock.Now()
		if !now.Before(housekeep) {
			s.housekeeping(ctx)
			housekeep = now.Add(s.Interval)
		}
		free := s.Workers - len(busy)
		claimed := s.claim(ctx, now, free, busy, freed, &wg)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var timer <-chan time.Time
		switch {
		case free == 0 || (claimed > 0 && claimed == free):
			// Saturated: more may be due; claim again when a worker
			// frees up.
		default:
			wait := min(s.sleep(ctx, now), housekeep.Sub(now))
			if wait <= 0 {
				// Rows are due but were not claimable (another
				// replica's lease, or a race): back off a little,
				// more each time, so two disagreeing queries never
				// spin.
				idle++
				wait = time.Duration(min(idle, 100)) * 10 * time.Millisecond
			} else {
				idle = 0
			}
			timer = s.Clock.After(wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-freed:
		case <-s.wake:
		case <-timer:
		}
	}
}

// claim leases up to free due rows and starts a refresh for each.
func (s *Scheduler) claim(ctx context.Context, now time.Time, free int, busy, freed chan struct{}, wg *sync.WaitGroup) int {
	if free <= 0 {
		return 0
	}
	rows := s.claimDue(ctx, now, free)
	for _, c := range rows {
		busy <- struct{}{}
		s.metrics.busy.Inc()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				<-busy
				s.metrics.busy.Dec()
				select {
				case freed <- struct{}{}:
				default:
				}
			}()
			s.refresh(ctx, c)
		}()
	}
	return len(rows)
}

// claimDue leases up to limit rows due at now to this process, counting
// them and how late they are; a failed claim is logged and claims none.
func (s *Scheduler) claimDue(ctx context.Context, now time.Time, limit int) []store.Connection {
	rows, err := s.Store.ClaimDue(ctx, s.Broker.Owner(), now, now.Add(s.LeaseTTL), limit)
	if err != nil {
		if ctx.Err() == nil {
			s.metrics.claimErrors.Inc()
			s.Logger.ErrorContext(ctx, "claim connections due for refresh", "err", err)
		}
		return nil
	}
	for _, c := range rows {
		s.metrics.claimed.Inc()
		if !c.NextRefreshAt.IsZero() {
			s.metrics.lag.Observe(max(0, now.Sub(c.NextRefreshAt)).Seconds())
		}
	}
	return rows
}

// refresh refreshes claimed row c and reports whether it succeeded.
func (s *Scheduler) refresh(ctx context.Context, c store.Connection) bool {
	if err := s.Broker.RefreshClaimed(ctx, c); err != nil {
		s.metrics.failed.Inc()
		s.Logger.WarnContext(ctx, "background refresh", "connection_id", c.ID, "provider", c.Provider, "code", broker.CodeOf(err), "err", err)
		return false
	}
	return true
}

// sleep returns how long to sleep at now: until the earliest scheduled
// refresh, at most Interval and LeaseTTL.
func (s *Scheduler) sleep(ctx context.Context, now time.Time) time.Duration {
	next, err := s.Store.NextRefreshDue(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			s.Logger.ErrorContext(ctx, "read the next refresh due", "err", err)
		}
		return s.Interval
	}
	// Rows under another replica's live lease are not in next; if that
	// replica died, its claims lapse within a lease, so look again by then.
	if next.IsZero() {
		return min(s.Interval, s.LeaseTTL)
	}
	return min(next.Sub(now), s.Interval, s.LeaseTTL)
}

// housekeeping purges expired connect sessions and sends the reauth
// notices due.
func (s *Scheduler) housekeeping(ctx context.Context) {
	if n, err := s.Broker.Purge(ctx); err != nil {
		s.Logger.WarnContext(ctx, "purge expired sessions", "err", err)
	} else if n > 0 {
		s.Logger.DebugContext(ctx, "purged expired sessions", "count", n)
	}
	if len(s.ReauthNotices) == 0 || ctx.Err() != nil {
		return
	}
	if n, err := s.Broker.NoticeReauth(ctx, s.ReauthNotices, s.NoticeBatch); err != nil {
		s.Logger.ErrorContext(ctx, "send reauth notices", "err", err)
	} else if n > 0 {
		s.Logger.InfoContext(ctx, "sent reauth notices", "count", n)
	}
}

// Sweep does the scheduler's work once and synchronously, at the clock's
// now: it claims and refreshes every connection due (Workers at a time)
// until none is left, then purges expired connect sessions and sends the
// reauth notices due, and returns how many refreshes succeeded. Tests and
// one-shot tools use it; a service uses Run.
func (s *Scheduler) Sweep(ctx context.Context) int {
	s.init()
	now := s.Clock.Now()
	seen := map[string]bool{}
	var ok atomic.Int64
	for ctx.Err() == nil {
		rows := s.claimDue(ctx, now, s.Workers)
		again := false
		var wg sync.WaitGroup
		for _, c := range rows {
			again = again || seen[c.ID]
			seen[c.ID] = true
			wg.Go(func() {
				if s.refresh(ctx, c) {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		// A row claimed twice in one sweep is still due after its
		// refresh (its write failed): leave it to the next sweep
		// rather than loop on it.
		if len(rows) < s.Workers || again {
			break
		}
	}
	s.housekeeping(ctx)
	return int(ok.Load())
}
