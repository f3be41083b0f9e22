package broker

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// A gate stands in front of one provider's token endpoint: a circuit
// breaker that stops sending after repeated transient failures, and a
// token bucket that keeps a refresh storm under the vendor's limit
// (provider refresh.max_refresh_rate). Every refresh and client-credentials
// request of a process passes its provider's gate, so callers, the
// scheduler and forced refreshes share one budget.
//
// The circuit has three states. Closed: requests go; each transient
// failure (timeout, 5xx, 429) adds one to a count that any answer from the
// endpoint resets. Open, once the count reaches CircuitFailures: nothing
// is sent until the cool-down ends; callers get the stored token while it
// is still valid. Half-open, after the cool-down: one probe goes; its
// success closes the circuit, its failure opens it again.
//
// Time comes from the broker's clock, so tests drive the cool-down with
// the sandbox's clock. The circuit is per process; each replica learns
// the provider's state from its own requests.
type gate struct {
	failures int
	cooldown time.Duration

	limiter *rate.Limiter // nil: no rate limit
	rate    float64
	burst   int

	mu        sync.Mutex
	count     int       // transient failures in a row
	openUntil time.Time // zero: closed
	probing   bool      // a half-open probe is in flight
}

// gate returns p's gate, made on first use.
func (b *Broker) gate(p provider.Provider) *gate {
	b.gatesMu.Lock()
	defer b.gatesMu.Unlock()
	g, ok := b.gates[p.Name]
	if ok {
		return g
	}
	g = &gate{failures: p.Refresh.CircuitFailures, cooldown: p.Refresh.CircuitCooldown.D(), rate: p.Refresh.MaxRefreshRate, burst: p.Refresh.MaxRefreshBurst}
	if g.failures <= 0 {
		g.failures = 5
	}
	if g.cooldown <= 0 {
		g.cooldown = 30 * time.Second
	}
	if g.rate > 0 {
		if g.burst <= 0 {
			// Half a second's worth: at a max_refresh_rate equal to the
			// vendor's limit, the vendor's bucket (commonly a second's
			// worth) keeps half a second of slack for the jitter between
			// admission here and arrival there (the journal write, the
			// dial); with a full second's worth it had none, and a
			// catch-up after an outage met 429s.
			g.burst = max(1, int(g.rate/2))
		}
		g.limiter = rate.NewLimiter(rate.Limit(g.rate/float64(b.replicas())), g.burst)
	}
	b.gates[p.Name] = g
	b.metrics.circuitOpen.WithLabelValues(p.Name).Set(0)
	return g
}

// SetReplicas tells the broker how many replicas share each provider's
// max_refresh_rate (the live replicas, as the app's heartbeat counts
// them), so that together they stay under it. Values below 1 count as 1.
func (b *Broker) SetReplicas(n int) {
	n = max(n, 1)
	if b.share.Swap(int64(n)) == int64(n) {
		return
	}
	b.gatesMu.Lock()
	defer b.gatesMu.Unlock()
	for _, g := range b.gates {
		if g.limiter != nil {
			g.limiter.SetLimit(rate.Limit(g.rate / float64(n)))
		}
	}
}

func (b *Broker) replicas() int {
	return int(max(b.share.Load(), 1))
}

// allow reports whether a request may go to the provider at now, and if
// not, when the circuit lets the next probe through; probe says the
// request is the half-open probe.
func (g *gate) allow(now time.Time) (ok bool, until time.Time, probe bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.openUntil.IsZero():
		return true, time.Time{}, false
	case now.Before(g.openUntil):
		return false, g.openUntil, false
	case g.probing:
		// Half-open with a probe in flight: wait for its outcome.
		return false, now.Add(g.cooldown / 10), false
	}
	g.probing = true
	return true, time.Time{}, true
}

// unprobe gives back the half-open probe allow let through, which was not
// sent after all (the rate limit held it back).
func (g *gate) unprobe() {
	g.mu.Lock()
	g.probing = false
	g.mu.Unlock()
}

// record takes the outcome of a request allow let through: transient
// reports a failure that says nothing about the request itself (a timeout,
// 5xx, 429). It returns whether the circuit is open afterwards.
func (g *gate) record(now time.Time, transient bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.probing = false
	if !transient {
		g.count, g.openUntil = 0, time.Time{}
		return false
	}
	g.count++
	if g.count >= g.failures || !g.openUntil.IsZero() {
		g.openUntil = now.Add(g.cooldown)
		return true
	}
	return false
}

// notSentError says a request was held back by its provider's gate and
// not sent at all.
type notSentError struct {
	reason string
	until  time.Time // when to try again
}

func (e *notSentError) Error() string { return e.reason }

// admit asks p's circuit whether a request may go now, then waits for
// p's rate limit. Every admitted request must be settled. The circuit
// comes first: a request it holds back is not sent, so it neither spends
// the provider's rate budget nor waits its turn (during an outage a sweep
// of many due rows, and callers of Token, would otherwise be paced by the
// rate limit for nothing).
func (b *Broker) admit(ctx context.Context, p provider.Provider, g *gate) error {
	ok, until, probe := g.allow(b.now())
	if !ok {
		return &notSentError{reason: "the provider's circuit is open after repeated failures", until: until}
	}
	if g.limiter != nil {
		start := time.Now()
		// Wait returns at once when ctx would end before the turn.
		if err := g.limiter.Wait(ctx); err != nil {
			if probe {
				g.unprobe()
			}
			b.metrics.rateLimited.WithLabelValues(p.Name).Inc()
			return &notSentError{reason: "the provider's refresh rate limit is saturated", until: b.now().Add(time.Duration(float64(time.Second) * float64(b.replicas()) / g.rate))}
		}
		if waited := time.Since(start); waited > time.Millisecond {
			b.metrics.rateWait.WithLabelValues(p.Name).Observe(waited.Seconds())
		}
	}
	return nil
}

// settle records the outcome err of a request admit let through.
func (b *Broker) settle(p provider.Provider, g *gate, err error) {
	open := g.record(b.now(), err != nil && oauthx.IsTransient(err))
	v := 0.0
	if open {
		v = 1
	}
	b.metrics.circuitOpen.WithLabelValues(p.Name).Set(v)
}

// notSent handles a refresh of c that its provider's gate held back:
// nothing was sent, so nothing about the grant changed and no failure is
// counted; the row's next attempt moves to when the gate may let it
// through, so the scheduler does not claim it again before then, and a
// still-valid access token is handed out meanwhile.
func (b *Broker) notSent(ctx context.Context, p provider.Provider, c store.Connection, cause error) (Token, error) {
	ns, _ := cause.(*notSentError)
	b.metrics.Refreshes.WithLabelValues(p.Name, "held_back").Inc()
	now := b.now()
	nc, err := b.st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
		if !sameGrant(cur, c) {
			return cur, store.ErrConflict
		}
		if ns != nil && ns.until.After(cur.NextAttemptAt) {
			cur.NextAttemptAt = ns.until
		}
		cur.LeaseOwner, cur.LeaseExpiresAt = "", time.Time{}
		return cur, nil
	})
	if err != nil {
		b.release(ctx, c.ID)
		nc = c
	}
	if stillValid(nc, now) {
		return b.tokenFrom(nc, now)
	}
	return Token{}, errorf(CodeUpstreamDown, cause, "provider %s is not being sent refreshes right now (%s); try again later", p.Name, cause)
}
