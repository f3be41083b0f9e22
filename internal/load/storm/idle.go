package storm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/grantd/grantd/internal/sandbox"
)

// IdleOptions describe an idle fleet: Connections stored, none due, one
// replica watched for Duration.
type IdleOptions struct {
	Binary      string
	Database    string
	Connections int
	Workers     int
	Tenants     int
	// Duration of the CPU measurement (default 60 s), after a settling
	// spell of 5 s from the replica's start.
	Duration time.Duration
	Progress io.Writer
}

// IdleReport is what one replica costs while nothing is due.
type IdleReport struct {
	Database    string `json:"database"`
	Connections int    `json:"connections"`
	Workers     int    `json:"workers"`
	// StartMs is from process start to the first healthy /healthz.
	StartMs float64 `json:"start_ms"`
	// CPUSecondsPerMinute is user plus system time over the measurement,
	// per minute.
	CPUSecondsPerMinute float64 `json:"cpu_s_per_min"`
	MeasuredSeconds     float64 `json:"measured_s"`
	RSSKB               int64   `json:"rss_kb"`
	PeakRSSKB           int64   `json:"peak_rss_kb"`
	// RefreshRequests must be 0: nothing was due.
	RefreshRequests int `json:"refresh_requests"`
	// ClaimPlan is the database's plan for the claim of due connections
	// (PostgreSQL's EXPLAIN, SQLite's EXPLAIN QUERY PLAN).
	ClaimPlan string `json:"claim_plan,omitempty"`
}

// Idle stores o.Connections connections, none due, starts one replica and
// measures it.
func Idle(ctx context.Context, o IdleOptions) (*IdleReport, error) {
	if o.Binary == "" || o.Connections < 1 || o.Connections > sandbox.MaxBulkGrants || o.Workers < 1 || o.Workers > 256 {
		return nil, fmt.Errorf("idle: want a binary, connections 1..%d and workers 1..256", sandbox.MaxBulkGrants)
	}
	if o.Duration <= 0 {
		o.Duration = time.Minute
	}
	if o.Duration > time.Hour {
		return nil, errors.New("idle: duration must be at most 1h")
	}
	if o.Tenants <= 0 {
		o.Tenants = 4
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	r, err := newRig(ctx, Options{Binary: o.Binary, Database: o.Database, Connections: o.Connections, Replicas: 1, Workers: o.Workers})
	if err != nil {
		return nil, err
	}
	defer r.close()
	rep := &IdleReport{Database: r.label, Connections: o.Connections, Workers: o.Workers}
	if _, err := r.seed(ctx, o.Connections, o.Tenants, func(done int) {
		fmt.Fprintf(o.Progress, "idle: seeded %d/%d connections\n", done, o.Connections)
	}); err != nil {
		return nil, err
	}
	p, err := r.startReplica(ctx, "idle")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	rep.StartMs = float64(p.ready.Sub(p.started)) / float64(time.Millisecond)
	fmt.Fprintf(o.Progress, "idle: %d connections on %s, replica healthy after %.0f ms; measuring %s\n", o.Connections, r.label, rep.StartMs, o.Duration)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Second):
	}
	c0, err := cpuSeconds(p.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(o.Duration):
	}
	s, err := p.stats()
	if err != nil {
		return nil, err
	}
	rep.MeasuredSeconds = time.Since(t0).Seconds()
	rep.CPUSecondsPerMinute = (s.CPUSeconds - c0) / rep.MeasuredSeconds * 60
	rep.RSSKB, rep.PeakRSSKB = s.RSSKB, s.PeakRSSKB
	rep.RefreshRequests = sum(r.sb.Stats().Providers[sandbox.Pax8].TokenRequests["refresh_token"])
	if rep.ClaimPlan, err = r.claimPlan(ctx); err != nil {
		return nil, err
	}
	return rep, nil
}
