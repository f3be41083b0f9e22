package storm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/app"
	"github.com/grantd/grantd/internal/load"
	"github.com/grantd/grantd/internal/sandbox"
)

// Options describe a storm: Connections due at once, drained by Replicas
// grantd processes on one database against a sandbox with the given
// token-endpoint latency and rate cap.
type Options struct {
	// Binary is the grantd executable the replicas run.
	Binary string
	// Database is "sqlite" (a file in a temp dir) or a postgres:// URL, in
	// which a scratch schema is created and dropped.
	Database    string
	Connections int
	Replicas    int
	// Workers is each replica's refresh.workers.
	Workers int
	// Tenants the connections are spread over (default 4).
	Tenants int
	// Latency is the sandbox's token-endpoint latency.
	Latency time.Duration
	// Cap is the sandbox's token requests per second (0: none) and Burst
	// its bucket (default one second of Cap). The provider's
	// max_refresh_rate is Cap×Headroom, which the live replicas share
	// equally, and
	// its max_refresh_burst, which each replica has in full, is half of
	// Burst over Replicas, so that the fleet stays under the cap.
	Cap   float64
	Burst int
	// Headroom is the share of Cap the provider's max_refresh_rate is set
	// to (default 0.9), as an operator leaves room under a vendor's limit
	// for the jitter between grantd's pacing and the vendor's count.
	Headroom float64
	// Rounds of the whole run, each in a fresh world (default 1).
	Rounds int
	// Timeout bounds each round's drain (default 10 min).
	Timeout time.Duration
	// BaselineDuration is how long the sandbox alone is measured (default
	// 5 s).
	BaselineDuration time.Duration
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
}

// Validate checks o's bounds.
func (o Options) Validate() error {
	var errs []string
	if o.Binary == "" {
		errs = append(errs, "no grantd binary")
	}
	if o.Connections < 1 || o.Connections > sandbox.MaxBulkGrants {
		errs = append(errs, fmt.Sprintf("connections must be 1..%d", sandbox.MaxBulkGrants))
	}
	if o.Replicas < 1 || o.Replicas > 8 {
		errs = append(errs, "replicas must be 1..8")
	}
	if o.Replicas > 1 && (o.Database == "" || o.Database == "sqlite") {
		errs = append(errs, "more than one replica needs PostgreSQL (--database postgres://…)")
	}
	if o.Workers < 1 || o.Workers > 256 {
		errs = append(errs, "workers must be 1..256")
	}
	if o.Tenants < 0 || o.Tenants > 1000 || o.Rounds < 0 || o.Rounds > 20 {
		errs = append(errs, "tenants must be 0..1000 and rounds 0..20")
	}
	if o.Latency < 0 || o.Latency > 10*time.Second {
		errs = append(errs, "latency must be 0..10s")
	}
	if o.Cap < 0 || o.Cap > 100000 || o.Burst < 0 || o.Headroom < 0 || o.Headroom > 1 {
		errs = append(errs, "cap must be 0..100000 per second, burst not negative and headroom 0..1")
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Tenants == 0 {
		o.Tenants = 4
	}
	if o.Rounds == 0 {
		o.Rounds = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Headroom == 0 {
		o.Headroom = 0.9
	}
	if o.BaselineDuration == 0 {
		o.BaselineDuration = 5 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// burst is the sandbox's bucket: Burst, or one second's worth of Cap,
// the sandbox's own default and grantd's for max_refresh_burst.
func (o Options) burst() int {
	if o.Burst > 0 {
		return o.Burst
	}
	return max(1, int(math.Ceil(o.Cap)))
}

// providerRate is the provider's max_refresh_rate (for the fleet) and
// max_refresh_burst (per replica); zero rate is no cap.
func (o Options) providerRate() (float64, int) {
	if o.Cap <= 0 {
		return 0, 0
	}
	return o.Cap * o.Headroom, max(1, o.burst()/(2*o.Replicas))
}

// Report is the outcome of a storm, round by round, with medians.
type Report struct {
	Database    string  `json:"database"`
	Connections int     `json:"connections"`
	Replicas    int     `json:"replicas"`
	Workers     int     `json:"workers"`
	Tenants     int     `json:"tenants"`
	LatencyMs   int     `json:"latency_ms"`
	Cap         float64 `json:"cap_per_s"`
	Burst       int     `json:"burst,omitempty"`
	// MaxRefreshRate is the provider's max_refresh_rate in the replicas'
	// config (0: none).
	MaxRefreshRate float64 `json:"max_refresh_rate,omitempty"`
	Rounds         []Round `json:"rounds"`
	// Medians over the rounds.
	DrainSeconds float64 `json:"median_drain_s"`
	Throughput   float64 `json:"median_throughput_per_s"`
	Baseline     float64 `json:"median_baseline_per_s"`
	Ratio        float64 `json:"median_ratio"`
	// CapRatio is the median throughput over Cap, with a cap.
	CapRatio float64 `json:"median_cap_ratio,omitempty"`
	Passed   bool    `json:"passed"`
}

// Round is one storm in a fresh world.
type Round struct {
	SeedSeconds  float64 `json:"seed_s"`
	DrainSeconds float64 `json:"drain_s"`
	Throughput   float64 `json:"throughput_per_s"`
	// RefreshRequests is what the sandbox's token endpoint counted for
	// the refresh_token grant during the drain, whatever the outcome but
	// the 429s of its rate cap (TooMany), and RefreshOK those it answered
	// with tokens.
	RefreshRequests int `json:"refresh_requests"`
	RefreshOK       int `json:"refresh_ok"`
	// Refreshed is the connections the database shows refreshed since
	// they fell due; Inactive those no longer active.
	Refreshed       int `json:"refreshed"`
	Inactive        int `json:"inactive"`
	ReuseDetected   int `json:"reuse_detected"`
	FamiliesRevoked int `json:"families_revoked"`
	TooMany         int `json:"too_many_requests"`
	// Baseline is the sandbox alone: refresh grants per second answered
	// to a bounded Go client at Replicas×Workers concurrency.
	Baseline         float64        `json:"baseline_per_s"`
	BaselineTooMany  int            `json:"baseline_too_many,omitempty"`
	Ratio            float64        `json:"ratio"` // Throughput / Baseline
	ReplicaResources []ReplicaStats `json:"replicas"`
	Failures         []string       `json:"failures,omitempty"`
}

// Run runs o.Rounds storms and reports them. It returns an error only
// when a round could not be run; a round that ran but did not refresh
// every connection exactly once is a failure in the report (Passed false).
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	rep := &Report{
		Database: "SQLite (WAL)", Connections: o.Connections, Replicas: o.Replicas, Workers: o.Workers,
		Tenants: o.Tenants, Cap: o.Cap, LatencyMs: int(o.Latency.Milliseconds()),
		Passed: true,
	}
	if o.Cap > 0 {
		rep.Burst = o.burst()
		rep.MaxRefreshRate, _ = o.providerRate()
	}
	var drains, tputs, bases, ratios []float64
	for i := range o.Rounds {
		fmt.Fprintf(o.Progress, "storm: round %d/%d\n", i+1, o.Rounds)
		rd, r, err := runRound(ctx, o)
		if err != nil {
			return rep, fmt.Errorf("round %d: %w", i+1, err)
		}
		rep.Database = r.label
		rep.Rounds = append(rep.Rounds, rd)
		if len(rd.Failures) > 0 {
			rep.Passed = false
		}
		drains, tputs = append(drains, rd.DrainSeconds), append(tputs, rd.Throughput)
		bases, ratios = append(bases, rd.Baseline), append(ratios, rd.Ratio)
		fmt.Fprintf(o.Progress, "storm: round %d: drained %d in %.1f s (%.0f/s), baseline %.0f/s, ratio %.2f, %d refresh requests, %d reuse, %d revoked, %d 429\n",
			i+1, rd.Refreshed, rd.DrainSeconds, rd.Throughput, rd.Baseline, rd.Ratio, rd.RefreshRequests, rd.ReuseDetected, rd.FamiliesRevoked, rd.TooMany)
	}
	rep.DrainSeconds, rep.Throughput = load.Median(drains), load.Median(tputs)
	rep.Baseline, rep.Ratio = load.Median(bases), load.Median(ratios)
	if o.Cap > 0 {
		rep.CapRatio = rep.Throughput / o.Cap
	}
	return rep, nil
}

// runRound builds a world, seeds it, starts the replicas, makes every
// connection due and measures the drain, then the baseline.
func runRound(ctx context.Context, o Options) (Round, *rig, error) {
	var rd Round
	r, err := newRig(ctx, o)
	if err != nil {
		return rd, nil, err
	}
	defer r.close()
	start := time.Now()
	if _, err := r.seed(ctx, o.Connections, o.Tenants, func(done int) {
		fmt.Fprintf(o.Progress, "storm: seeded %d/%d connections\n", done, o.Connections)
	}); err != nil {
		return rd, r, err
	}
	rd.SeedSeconds = time.Since(start).Seconds()
	fmt.Fprintf(o.Progress, "storm: seeded %d connections over %d tenants in %.1f s on %s; starting %d replicas (%s)\n",
		o.Connections, o.Tenants, rd.SeedSeconds, r.label, o.Replicas, "claim scheduler")

	var reps []*replica
	defer func() {
		for _, p := range reps {
			p.stop()
		}
	}()
	for i := range o.Replicas {
		p, err := r.startReplica(ctx, fmt.Sprintf("replica%d", i))
		if err != nil {
			return rd, r, err
		}
		reps = append(reps, p)
	}
	// Each replica counts the live ones every app.ReplicaCountEvery to
	// take its share of max_refresh_rate; let all of them see all.
	select {
	case <-ctx.Done():
		return rd, r, ctx.Err()
	case <-time.After(app.ReplicaCountEvery + time.Second):
	}
	before := r.sb.Stats().Providers[sandbox.Pax8]
	t0, err := r.makeDue(ctx)
	if err != nil {
		return rd, r, err
	}
	if err := r.drain(ctx, o, t0, &rd); err != nil && !errors.Is(err, errTimeout) {
		return rd, r, err
	}
	// A quiet spell after the drain catches late duplicates.
	select {
	case <-ctx.Done():
		return rd, r, ctx.Err()
	case <-time.After(3 * time.Second):
	}
	after := r.sb.Stats().Providers[sandbox.Pax8]
	rd.TooMany = after.TokenRateLimited - before.TokenRateLimited
	rd.RefreshRequests = sum(after.TokenRequests["refresh_token"]) - sum(before.TokenRequests["refresh_token"]) - rd.TooMany
	rd.RefreshOK = after.TokenRequests["refresh_token"]["ok"] - before.TokenRequests["refresh_token"]["ok"]
	rd.ReuseDetected = after.RefreshReuseDetected - before.RefreshReuseDetected
	rd.FamiliesRevoked = after.FamiliesRevoked - before.FamiliesRevoked
	if rd.Refreshed, rd.Inactive, err = r.refreshedSince(ctx, t0); err != nil {
		return rd, r, err
	}
	for _, p := range reps {
		if rd.Refreshed != o.Connections || rd.TooMany != 0 || rd.RefreshRequests != o.Connections {
			fmt.Fprintf(o.Progress, "storm: %s log, last lines:\n%s\n", p.name, tail(p.log, 10))
		}
		s, err := p.stats()
		if err != nil {
			return rd, r, fmt.Errorf("%s: %w", p.name, err)
		}
		rd.ReplicaResources = append(rd.ReplicaResources, s)
	}
	for _, p := range reps {
		p.stop()
	}
	reps = nil

	n := o.Connections
	check := func(ok bool, format string, args ...any) {
		if !ok {
			rd.Failures = append(rd.Failures, fmt.Sprintf(format, args...))
		}
	}
	check(rd.RefreshRequests == n, "%d refresh requests at the sandbox, want %d", rd.RefreshRequests, n)
	check(rd.Refreshed == n, "%d connections refreshed, want %d", rd.Refreshed, n)
	check(rd.Inactive == 0, "%d connections no longer active", rd.Inactive)
	check(rd.ReuseDetected == 0, "%d refresh-token reuses detected", rd.ReuseDetected)
	check(rd.FamiliesRevoked == 0, "%d families revoked", rd.FamiliesRevoked)
	check(rd.TooMany == 0, "%d token requests answered 429", rd.TooMany)

	if rd.Baseline, err = r.baseline(ctx, o.Replicas*o.Workers, o.BaselineDuration, o.Cap > 0); err != nil {
		return rd, r, fmt.Errorf("baseline: %w", err)
	}
	rd.BaselineTooMany = r.sb.Stats().Providers[sandbox.Pax8].TokenRateLimited - after.TokenRateLimited
	if rd.Baseline > 0 {
		rd.Ratio = rd.Throughput / rd.Baseline
	}
	return rd, r, nil
}

// drain polls the database until every connection was refreshed since t0
// or the timeout passes, and records the drain time: from t0 to the last
// refresh stored.
func (r *rig) drain(ctx context.Context, o Options, t0 time.Time, rd *Round) error {
	deadline := t0.Add(o.Timeout)
	lastProgress := time.Now()
	// Counting scans the table; the drain time comes from the rows
	// themselves, so a large fleet is polled less often.
	poll := 100 * time.Millisecond
	if o.Connections > 5000 {
		poll = time.Second
	}
	for {
		refreshed, _, err := r.refreshedSince(ctx, t0)
		if err != nil {
			return err
		}
		now := time.Now()
		if refreshed >= o.Connections || now.After(deadline) {
			last, err := r.lastRefresh(ctx)
			if err != nil {
				return err
			}
			rd.DrainSeconds = last.Sub(t0).Seconds()
			if rd.DrainSeconds > 0 {
				rd.Throughput = float64(refreshed) / rd.DrainSeconds
			}
			if refreshed < o.Connections {
				rd.Failures = append(rd.Failures, fmt.Sprintf("only %d of %d connections refreshed within %s", refreshed, o.Connections, o.Timeout))
				return errTimeout
			}
			return nil
		}
		if now.Sub(lastProgress) >= 2*time.Second {
			lastProgress = now
			fmt.Fprintf(o.Progress, "storm: %d/%d refreshed after %.1f s (%.0f/s)\n", refreshed, o.Connections, now.Sub(t0).Seconds(), float64(refreshed)/now.Sub(t0).Seconds())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// lastRefresh is the latest LastRefreshAt of any connection.
func (r *rig) lastRefresh(ctx context.Context) (time.Time, error) {
	if r.st.Dialect() == "sqlite" {
		var us int64
		err := r.st.SQL().QueryRowContext(ctx, `SELECT COALESCE(MAX(last_refresh_at), 0) FROM connections`).Scan(&us)
		return time.UnixMicro(us).UTC(), err
	}
	var t time.Time
	err := r.st.SQL().QueryRowContext(ctx, `SELECT MAX(last_refresh_at) FROM connections`).Scan(&t)
	return t, err
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
