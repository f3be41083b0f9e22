package crash

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/grantd/grantd/internal/load/fleet"
)

// Options configures [Run]. The command line checks them first: Binary
// with [CheckBinary], Points with [ParsePoints], Leeways with
// [ParseLeeways], Database with fleet.CheckDatabase.
type Options struct {
	// Binary is a grantd built with the failpoint tag.
	Binary string
	// Trials is the number of trials per point and leeway (1..1000).
	Trials int
	// Points are the failpoints replica A dies at; ignored with Stall.
	Points []string
	// Leeways are the provider reuse intervals to try.
	Leeways []time.Duration
	// Database is "sqlite" or a postgres:// URL.
	Database string
	// Stall, when not zero, runs RT-09: replica A is stopped this long
	// with its refresh in flight instead of killed at failpoints. It must
	// exceed [TimeoutA] and stay under [LeaseStall].
	Stall time.Duration
	// Parallel is the number of independent worlds (1..8).
	Parallel int
	// Progress, when not nil, is told how the trials go.
	Progress io.Writer
}

// Run runs every (point, leeway) case and returns the report. A case that
// failed is counted in Report.Failed, not returned as an error; the error
// is for a harness that could not run.
func Run(ctx context.Context, o Options) (*Report, error) {
	points := o.Points
	if o.Stall != 0 {
		if o.Stall <= TimeoutA || o.Stall >= LeaseStall {
			return nil, fmt.Errorf("--stall must exceed replica A's refresh timeout (%s) and stay inside its lease (%s)", TimeoutA, LeaseStall)
		}
		points = []string{"stall"}
	}
	if o.Trials < 1 || o.Trials > 1000 || o.Parallel < 1 || o.Parallel > 8 {
		return nil, fmt.Errorf("trials must be 1..1000, parallel 1..8")
	}
	bin := o.Binary
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "grantd-crash-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	procs := &procSet{kids: map[*replica]bool{}}
	worlds := make([]*crashRig, o.Parallel)
	label := ""
	taken := map[string]bool{}
	addr := func() (string, error) { // a loopback address no other world uses
		for {
			a, err := fleet.FreeLoopbackAddr()
			if err != nil || !taken[a] {
				taken[a] = true
				return a, err
			}
		}
	}
	for i := range worlds {
		wdir := filepath.Join(dir, fmt.Sprintf("world%d", i))
		if err := os.Mkdir(wdir, 0o700); err != nil {
			return nil, err
		}
		dsn, l, dropSchema, err := fleet.ScratchDatabase(ctx, o.Database, wdir)
		if err != nil {
			return nil, err
		}
		defer dropSchema()
		label = l
		if worlds[i], err = newCrashRig(ctx, bin, wdir, dsn, procs, addr); err != nil {
			return nil, err
		}
		defer worlds[i].close()
	}
	// Before the worlds close and their schemas are dropped.
	defer procs.killAll()

	rep := &Report{Database: label, Mode: "failpoint", TrialsPerCase: o.Trials, Parallel: o.Parallel}
	if o.Stall != 0 {
		rep.Mode, rep.Stall = "stall", o.Stall.String()
	}
	start := time.Now()
	var progressMu sync.Mutex
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			progressMu.Lock()
			fmt.Fprintf(o.Progress, format, args...)
			progressMu.Unlock()
		}
	}
	progress("load crash: %d world(s) of a strict sandbox, replica B and %s replicas A, on %s\n", o.Parallel, filepath.Base(bin), label)
	for _, leeway := range o.Leeways {
		for _, w := range worlds {
			if err := w.startB(ctx, leeway); err != nil {
				return nil, err
			}
		}
		for _, point := range points {
			cc := &Case{Point: point, Leeway: leeway.String(), Want: crashWant(point, leeway, o.Stall)}
			cc.Results = make([]*Trial, o.Trials)
			if err := runTrials(ctx, worlds, cc.Results, func(ctx context.Context, w *crashRig) (*Trial, error) {
				if o.Stall != 0 {
					return w.stallTrial(ctx, o.Stall)
				}
				return w.failpointTrial(ctx, point)
			}, func(done int, t *Trial) {
				if done%10 == 0 || done == o.Trials {
					progress("  %s leeway %s: %d/%d trials (last: %s, settled in %.0f ms)\n", point, leeway, done, o.Trials, t.Outcome, t.SettleMs)
				}
			}); err != nil {
				return nil, fmt.Errorf("%s, leeway %s: %w", point, leeway, err)
			}
			tally(cc, leeway)
			rep.Cases = append(rep.Cases, cc)
		}
		for _, w := range worlds {
			w.stopB()
		}
	}
	for _, cc := range rep.Cases {
		rep.Trials += cc.Trials
		rep.Corrupt += cc.Corrupt
		rep.ReuseDetected += cc.ReuseDetected
		rep.FamiliesRevoked += cc.FamiliesRevoked
		if !cc.Passed {
			rep.Failed++
		}
	}
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}
