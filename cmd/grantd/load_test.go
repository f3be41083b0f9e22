package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/grantd/grantd/internal/load/herd"
	"github.com/grantd/grantd/internal/store/storetest"
)

// TestLoadRefreshTwoProcesses runs the RT-01/RT-02 scenario for real: two
// grantd processes (the built binary) share one database, 50 callers each
// ask for an expired token at once against the strict sandbox, a few times
// in a row. Every iteration must see exactly one refresh request, no reuse,
// and one token for all callers. BENCHMARKS.md reports the 100-iteration
// run of the same command.
func TestLoadRefreshTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := filepath.Join(t.TempDir(), "grantd")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "sqlite" }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresURL(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), bin, "load", "refresh", "--database", tc.db(t),
				"--replicas", "2", "--callers", "50", "--iterations", "5", "--json").Output()
			var rep herd.Report
			if jerr := json.Unmarshal(out, &rep); jerr != nil {
				t.Fatalf("load refresh: %v, output %q (%v)", err, out, jerr)
			}
			if err != nil || rep.Passed != 5 || rep.MaxRefreshes != 1 || rep.MinRefreshes != 1 || rep.ReuseDetected != 0 ||
				rep.CallersOK != rep.CallersTotal || rep.CallersTotal != 500 || rep.DistinctTokensMax != 1 {
				t.Errorf("load refresh = %+v, %v; want 5/5 passed, 1 refresh per iteration, 0 reuse, 500/500 callers, 1 token", rep, err)
			}
		})
	}
}
