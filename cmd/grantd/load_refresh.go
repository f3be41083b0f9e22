package main

import (
	"context"
	"fmt"
	"os"

	"github.com/grantd/grantd/internal/load/herd"
)

// loadRefresh is `grantd load refresh` (package herd): it parses the
// flags, runs the scenario with this executable as the replicas, and
// prints the report.
func loadRefresh(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "load refresh")
	o := herd.Options{}
	fs.StringVar(&o.Database, "database", "sqlite", `"sqlite" (a file in a temp dir) or a postgres:// URL (a scratch schema is created in it)`)
	fs.IntVar(&o.Replicas, "replicas", 2, "grantd processes sharing the database")
	fs.IntVar(&o.Callers, "callers", 100, "concurrent callers per process")
	fs.IntVar(&o.Iterations, "iterations", 100, "expire-and-ask rounds")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("load refresh: unexpected argument %q", pos[0])
	}
	if o.Binary, err = os.Executable(); err != nil {
		return err
	}
	if err := o.Check(); err != nil {
		return usagef("load refresh: %v", err)
	}
	o.Progress = e.stderr
	if *asJSON {
		o.Progress = nil
	}
	rep, err := herd.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		herd.PrintReport(e.stdout, rep)
	}
	if rep.Passed != rep.Iterations {
		return fmt.Errorf("%d of %d iterations failed", rep.Iterations-rep.Passed, rep.Iterations)
	}
	return nil
}
