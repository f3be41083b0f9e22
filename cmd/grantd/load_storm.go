package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/load/storm"
)

// loadStorm is `grantd load storm`: N connections due at once, drained by
// R replicas against a sandbox with the given latency and rate cap (see
// package storm).
func loadStorm(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "load storm")
	conns := fs.Int("connections", 10000, "connections due at once")
	replicas := fs.Int("replicas", 1, "grantd processes sharing the database (more than 1 needs PostgreSQL)")
	dbFlag := fs.String("database", "sqlite", `"sqlite" (a file in a temp dir) or a postgres:// URL (a scratch schema is created in it)`)
	latency := fs.Duration("latency", 0, "the sandbox's token-endpoint latency")
	capFlag := fs.Float64("cap", 0, "the sandbox's token requests per second (0: no cap)")
	burst := fs.Int("burst", 0, "the sandbox's rate-limit bucket (default one second of cap)")
	headroom := fs.Float64("headroom", 0.9, "the provider's max_refresh_rate is cap × headroom")
	workers := fs.Int("workers", 8, "refresh.workers of each replica")
	tenants := fs.Int("tenants", 4, "tenants the connections are spread over")
	rounds := fs.Int("rounds", 1, "rounds, each in a fresh world; medians are reported")
	timeout := fs.Duration("timeout", 30*time.Minute, "bound of each round's drain")
	baseline := fs.Duration("baseline", 5*time.Second, "how long the sandbox alone is measured")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	o := storm.Options{
		Binary: exe, Database: *dbFlag, Connections: *conns, Replicas: *replicas, Workers: *workers,
		Tenants: *tenants, Latency: *latency, Cap: *capFlag, Burst: *burst, Headroom: *headroom, Rounds: *rounds,
		Timeout: *timeout, BaselineDuration: *baseline, Progress: e.stderr,
	}
	if err := o.Validate(); err != nil {
		return usagef("load storm: %v", err)
	}
	rep, err := storm.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		printStorm(e, rep)
	}
	if !rep.Passed {
		return fmt.Errorf("load storm: not every connection was refreshed exactly once")
	}
	return nil
}

func printStorm(e *env, rep *storm.Report) {
	w := e.stdout
	capText := "no cap"
	if rep.Cap > 0 {
		capText = fmt.Sprintf("cap %g/s (burst %d), max_refresh_rate %g/s", rep.Cap, rep.Burst, rep.MaxRefreshRate)
	}
	fmt.Fprintf(w, "refresh storm: %d connections, %d replicas × %d workers (%s) on %s, sandbox latency %d ms, %s\n",
		rep.Connections, rep.Replicas, rep.Workers, "claims", rep.Database, rep.LatencyMs, capText)
	fmt.Fprintf(w, "  %-6s %9s %10s %10s %6s %9s %6s %8s %5s %s\n", "round", "drain s", "refresh/s", "baseline/s", "ratio", "requests", "reuse", "revoked", "429", "replicas: peak RSS MB / CPU s")
	for i, rd := range rep.Rounds {
		res := ""
		for _, s := range rd.ReplicaResources {
			res += fmt.Sprintf(" %.0f/%.1f", float64(s.PeakRSSKB)/1024, s.CPUSeconds)
		}
		fmt.Fprintf(w, "  %-6d %9.1f %10.0f %10.0f %6.2f %9d %6d %8d %5d%s\n", i+1, rd.DrainSeconds, rd.Throughput, rd.Baseline, rd.Ratio,
			rd.RefreshRequests, rd.ReuseDetected, rd.FamiliesRevoked, rd.TooMany, res)
		for _, f := range rd.Failures {
			fmt.Fprintln(w, "  FAIL", f)
		}
	}
	fmt.Fprintf(w, "  median: drain %.1f s, %.0f refreshes/s, baseline %.0f/s, ratio %.2f", rep.DrainSeconds, rep.Throughput, rep.Baseline, rep.Ratio)
	if rep.Cap > 0 {
		fmt.Fprintf(w, ", %.2f× the cap", rep.CapRatio)
	}
	fmt.Fprintln(w)
}

// loadIdle is `grantd load idle`: what one replica costs with N
// connections stored and none due.
func loadIdle(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "load idle")
	conns := fs.Int("connections", 10000, "connections stored, none due")
	dbFlag := fs.String("database", "sqlite", `"sqlite" (a file in a temp dir) or a postgres:// URL (a scratch schema is created in it)`)
	workers := fs.Int("workers", 8, "refresh.workers of the replica")
	dur := fs.Duration("duration", time.Minute, "how long CPU is measured")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	rep, err := storm.Idle(ctx, storm.IdleOptions{Binary: exe, Database: *dbFlag, Connections: *conns, Workers: *workers, Duration: *dur, Progress: e.stderr})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, rep)
	}
	w := e.stdout
	fmt.Fprintf(w, "idle fleet: %d connections on %s, none due, 1 replica (claims, %d workers)\n", rep.Connections, rep.Database, rep.Workers)
	fmt.Fprintf(w, "  start to healthy %.0f ms; CPU %.3f s per minute over %.0f s; RSS %.1f MB (peak %.1f MB); refresh requests %d\n",
		rep.StartMs, rep.CPUSecondsPerMinute, rep.MeasuredSeconds, float64(rep.RSSKB)/1024, float64(rep.PeakRSSKB)/1024, rep.RefreshRequests)
	fmt.Fprintf(w, "  plan of the due query:\n")
	for l := range strings.Lines(rep.ClaimPlan) {
		fmt.Fprintf(w, "    %s\n", strings.TrimRight(l, "\n"))
	}
	if rep.RefreshRequests != 0 {
		return fmt.Errorf("load idle: %d refresh requests while nothing was due", rep.RefreshRequests)
	}
	return nil
}
