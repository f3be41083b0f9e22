package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/grantd/grantd/internal/failpoint"
	"github.com/grantd/grantd/internal/load/crash"
	"github.com/grantd/grantd/internal/load/fleet"
)

// loadCrash is `grantd load crash` (package crash): it parses and checks
// the flags, runs the trials and prints the report.
func loadCrash(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "load crash")
	binFlag := fs.String("binary", "", "grantd built with the failpoint tag (go build -tags failpoint -o grantd-fp ./cmd/grantd); required")
	trials := fs.Int("trials", 20, "trials per point and leeway (1..1000)")
	pointsFlag := fs.String("points", strings.Join(failpoint.Names, ","), "failpoints, comma-separated")
	leewayFlag := fs.String("leeway", "0,30s", "reuse intervals, comma-separated: the sandbox's and the provider's refresh_token.reuse_interval (0 with --stall)")
	dbFlag := fs.String("database", "sqlite", `"sqlite" (a file in a temp dir) or a postgres:// URL (a scratch schema is created in it)`)
	stall := fs.Duration("stall", 0, "RT-09 instead of failpoints: SIGSTOP replica A this long while its refresh is in flight (beyond its 1s timeout, inside its 10s lease)")
	parallel := fs.Int("parallel", 4, "independent worlds (sandbox, database, replicas B and A) running trials at once (1..8)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("load crash: unexpected argument %q", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *binFlag == "" {
		return usagef("load crash: --binary is required: a grantd built with the failpoint tag, e.g. go build -tags failpoint -o grantd-fp ./cmd/grantd")
	}
	if *trials < 1 || *trials > 1000 || *parallel < 1 || *parallel > 8 {
		return usagef("load crash: --trials must be 1..1000, --parallel 1..8")
	}
	if err := fleet.CheckDatabase(*dbFlag); err != nil {
		return usagef("load crash: %v", err)
	}
	points, err := crash.ParsePoints(*pointsFlag)
	if err != nil {
		return usagef("load crash: %v", err)
	}
	if *stall != 0 {
		if set["points"] {
			return usagef("load crash: --stall stops replica A instead of killing it at failpoints; leave out --points")
		}
		if *stall <= crash.TimeoutA || *stall >= crash.LeaseStall {
			return usagef("load crash: --stall must exceed replica A's refresh timeout (%s) and stay inside its lease (%s)", crash.TimeoutA, crash.LeaseStall)
		}
		if !set["leeway"] {
			*leewayFlag = "0"
		}
	}
	leeways, err := crash.ParseLeeways(*leewayFlag)
	if err != nil {
		return usagef("load crash: %v", err)
	}
	bin, err := crash.CheckBinary(ctx, *binFlag)
	if err != nil {
		return usagef("load crash: %v", err)
	}
	o := crash.Options{Binary: bin, Trials: *trials, Points: points, Leeways: leeways, Database: *dbFlag, Stall: *stall, Parallel: *parallel}
	if !*asJSON {
		o.Progress = e.stderr
	}
	rep, err := crash.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else if err := crash.PrintReport(e.stdout, rep, filepath.Base(bin)); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d cases failed", rep.Failed, len(rep.Cases))
	}
	return nil
}
