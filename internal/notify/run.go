package notify

import (
	"context"
	"sync"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// Run delivers the outbox's due deliveries of this Sender's endpoints
// until ctx is done: it claims as many as it has idle workers (a lease of
// LeaseTTL in the store, so that no other replica posts them meanwhile),
// posts them, and records each outcome. It looks again as soon as a worker
// is free, when Notify has written, when a retry it scheduled falls due,
// and every PollInterval for the rest. It prunes the outbox at start and
// hourly, and writes the deliveries of recent events that lack them (see
// reconcile) at start and every ten minutes. When ctx is done, attempts in flight finish (each bounded by the
// client's timeout) and are recorded, then the deliveries due get one more
// round within DrainTimeout; whatever is left stays in the outbox for the
// next start or another replica. Run returns nil. Call it once.
func (s *Sender) Run(ctx context.Context) error {
	s.prune(ctx)
	lastPrune := s.now()
	s.reconcile(ctx, s.now().Add(-min(reconcileStart, s.opts.Retention/2)))
	lastReconcile := s.now()
	var (
		wg       sync.WaitGroup
		done     = make(chan struct{}, s.opts.Workers)
		inflight int
		claimLog errLog
	)
	for ctx.Err() == nil {
		if now := s.now(); now.Sub(lastPrune) >= pruneEvery {
			s.prune(ctx)
			lastPrune = now
		}
		if now := s.now(); now.Sub(lastReconcile) >= reconcileEvery {
			s.reconcile(ctx, now.Add(-3*reconcileEvery))
			lastReconcile = now
		}
		busy := true // every worker is posting: wait for one
		if free := s.opts.Workers - inflight; free > 0 {
			ds := s.claim(ctx, free, &claimLog)
			for _, d := range ds {
				inflight++
				wg.Go(func() {
					s.attempt(context.WithoutCancel(ctx), d)
					done <- struct{}{}
				})
			}
			busy = len(ds) == free
		}
		var (
			timer *time.Timer
			fire  <-chan time.Time
		)
		if !busy {
			timer = time.NewTimer(s.wait())
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-done:
			inflight--
		case <-s.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
	wg.Wait()
	s.drain(context.WithoutCancel(ctx))
	return nil
}

// wait returns how long Run may sleep: until the earliest retry this
// Sender scheduled, at most PollInterval.
func (s *Sender) wait() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.opts.PollInterval
	if !s.nextDue.IsZero() {
		until := s.nextDue.Sub(s.now())
		if until <= 0 {
			s.nextDue = time.Time{}
			return 0
		}
		d = min(d, until)
	}
	return d
}

// noteDue records that a retry falls due at t.
func (s *Sender) noteDue(t time.Time) {
	s.mu.Lock()
	if s.nextDue.IsZero() || t.Before(s.nextDue) {
		s.nextDue = t
	}
	s.mu.Unlock()
}

// claim leases up to n due deliveries to this Sender. Errors are logged
// (at most once a minute) and claim nothing: the next poll tries again.
func (s *Sender) claim(ctx context.Context, n int, el *errLog) []store.Delivery {
	if len(s.keys) == 0 {
		return nil
	}
	// A claim cut off by ctx could commit with nobody to read it, leaving
	// the deliveries leased to no one until the lease lapses; so it is
	// bounded by its own timeout only.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	now := s.now()
	ds, err := s.st.ClaimDeliveries(cctx, s.opts.Owner, s.keys, now, now.Add(s.opts.LeaseTTL), n)
	if err != nil && ctx.Err() == nil && el.due(time.Now()) {
		s.log.Error("claim webhook deliveries", "err", err)
	}
	return ds
}

// drain makes one more round of attempts at the deliveries due, within
// DrainTimeout.
func (s *Sender) drain(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.DrainTimeout)
	defer cancel()
	var el errLog
	for ctx.Err() == nil {
		ds := s.claim(ctx, s.opts.Workers, &el)
		if len(ds) == 0 {
			return
		}
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Go(func() { s.attempt(ctx, d) })
		}
		wg.Wait()
	}
	s.log.Warn("webhook deliveries left in the outbox at shutdown; they are sent after the next start or by another replica",
		"drain_timeout", s.opts.DrainTimeout.String())
}

// prune deletes the deliveries finished more than Retention ago.
func (s *Sender) prune(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	n, err := s.st.PruneDeliveries(ctx, s.now().Add(-s.opts.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("prune webhook outbox", "err", err)
	case n > 0:
		s.log.Info("pruned webhook outbox", "deleted", n, "retention", s.opts.Retention.String())
	}
}

// errLog lets a repeated error be logged once a minute.
type errLog struct{ last time.Time }

func (l *errLog) due(now time.Time) bool {
	if now.Sub(l.last) < time.Minute {
		return false
	}
	l.last = now
	return true
}
