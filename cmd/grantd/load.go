package main

import (
	"context"
	"os"
	"runtime/pprof"
	"time"

	"github.com/grantd/grantd/internal/load/bench"
)

// cmdLoad runs a bounded load scenario on loopback and reports it against a
// baseline measured in the same run (BENCHMARKS.md).
func cmdLoad(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("load: want a scenario: token, refresh, proxy, crash, storm or idle")
	}
	// --cpuprofile FILE, anywhere after the scenario, profiles the whole
	// run (generator, grantd and sandbox share the process).
	rest := args[1:]
	for i := 0; i+1 < len(rest); i++ {
		if rest[i] != "--cpuprofile" && rest[i] != "-cpuprofile" {
			continue
		}
		f, err := os.Create(rest[i+1])
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		rest = append(rest[:i:i], rest[i+2:]...)
		break
	}
	switch args[0] {
	case "token":
		return loadToken(ctx, e, rest)
	case "refresh":
		return loadRefresh(ctx, e, rest)
	case "proxy":
		return loadProxy(ctx, e, rest)
	case "crash":
		return loadCrash(ctx, e, rest)
	case "storm":
		return loadStorm(ctx, e, rest)
	case "idle":
		return loadIdle(ctx, e, rest)
	}
	return usagef("load: unknown scenario %q (want token, refresh, proxy, crash, storm or idle)", args[0])
}

func loadToken(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "load token")
	o := bench.TokenOptions{}
	fs.IntVar(&o.Concurrency, "concurrency", 32, "concurrent workers")
	fs.DurationVar(&o.Duration, "duration", 3*time.Second, "duration of each measurement")
	fs.IntVar(&o.Rounds, "rounds", 5, "rounds (each measures grantd and the bare handler)")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.BoolVar(&o.AccessLog, "access-log", false, "serve with server.access_log on (one info line per request, to stderr)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Concurrency < 1 || o.Rounds < 1 || o.Duration <= 0 {
		return usagef("load token: --concurrency, --rounds and --duration must be positive")
	}
	o.Progress = e.stderr
	rep, err := bench.Token(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, rep)
	}
	bench.PrintToken(e.stdout, rep)
	return nil
}

func loadProxy(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "load proxy")
	o := bench.ProxyOptions{}
	fs.DurationVar(&o.Duration, "duration", 2*time.Second, "duration of each measurement")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds per concurrency level (each measures both sides)")
	fs.StringVar(&o.Path, "path", "companies?size=10", "API path to GET, relative to the API base")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.BoolVar(&o.AccessLog, "access-log", false, "serve with server.access_log on (one info line per request, to stderr)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Rounds < 1 || o.Duration <= 0 {
		return usagef("load proxy: --rounds and --duration must be positive")
	}
	o.Progress = e.stderr
	rep, err := bench.Proxy(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, rep)
	}
	bench.PrintProxy(e.stdout, rep)
	return nil
}
