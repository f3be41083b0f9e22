package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/failpoint"
	"github.com/grantd/grantd/internal/load/crash"
	"github.com/grantd/grantd/internal/load/fleet"
	"github.com/grantd/grantd/internal/store/storetest"
)

// TestLoadCrash runs RT-04 and RT-09 with real processes, a few trials of
// each: `grantd load crash` kills replica A (a failpoint build) with
// SIGKILL at every failpoint inside a refresh, with the provider's reuse
// interval 0 and 30s, on SQLite and PostgreSQL, and stops A with SIGSTOP
// while its refresh is in flight. Every trial must settle without
// corruption or a refresh-token reuse: recovered where nothing was sent or
// the reuse interval covers a replay, flagged needs_reauth otherwise.
// BENCHMARKS-style figures come from the same command with more trials.
func TestLoadCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := filepath.Join(t.TempDir(), "grantd-fp")
	build := exec.CommandContext(t.Context(), "go", "build", "-tags", "failpoint", "-o", bin, ".")
	build.Env = append(fleet.ChildEnv(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags failpoint: %v\n%s", err, b)
	}
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) string
		args []string
	}{
		{"sqlite", func(*testing.T) string { return "sqlite" }, []string{"--trials", "2"}},
		{"postgres", func(t *testing.T) string { return storetest.PostgresURL(t) }, []string{"--trials", "1"}},
		{"stall", func(*testing.T) string { return "sqlite" }, []string{"--stall", "2s", "--trials", "1", "--parallel", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"load", "crash", "--binary", bin, "--database", tc.db(t), "--json"}, tc.args...)
			cmd := exec.CommandContext(t.Context(), bin, args...)
			cmd.Env = fleet.ChildEnv()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var rep crash.Report
			if jerr := json.Unmarshal(out, &rep); jerr != nil {
				t.Fatalf("load crash: %v, output %q (%v)\n%s", err, out, jerr, stderr.String())
			}
			if err != nil || rep.Corrupt != 0 || rep.ReuseDetected != 0 || rep.FamiliesRevoked != 0 || rep.Failed != 0 {
				t.Errorf("load crash = %v: %d corrupt, %d reuses, %d families revoked, %d failed cases; want 0 of each\n%s",
					err, rep.Corrupt, rep.ReuseDetected, rep.FamiliesRevoked, rep.Failed, stderr.String())
			}
			if tc.name == "stall" {
				checkStall(t, &rep)
			} else {
				checkCrash(t, &rep)
			}
		})
	}
}

// checkCrash checks each RT-04 case against the checklist, independently
// of the command's own expectations.
func checkCrash(t *testing.T, rep *crash.Report) {
	t.Helper()
	if len(rep.Cases) != 2*len(failpoint.Names) {
		t.Fatalf("%d cases, want every failpoint with leeway 0s and 30s", len(rep.Cases))
	}
	for _, cc := range rep.Cases {
		want := "recovered" // nothing was sent, or the reuse interval covers one replay
		if cc.Leeway == "0s" && cc.Point != failpoint.RefreshBeforeJournal {
			want = "flagged" // the token may be consumed: never replayed blindly
		}
		got := map[string]int{"recovered": cc.Recovered, "flagged": cc.Flagged, "corrupt": cc.Corrupt}
		if cc.Trials != rep.TrialsPerCase || got[want] != cc.Trials || !cc.Passed {
			t.Errorf("%s leeway %s: %d trials, %v, passed %v; want all %d %s\n%s", cc.Point, cc.Leeway, cc.Trials, got, cc.Passed, rep.TrialsPerCase, want, strings.Join(cc.Failures, "\n"))
		}
		if want == "flagged" && cc.RefreshesByB != 0 {
			t.Errorf("%s leeway %s: replica B sent %d refresh requests, want none", cc.Point, cc.Leeway, cc.RefreshesByB)
		}
		if cc.ReuseDetected != 0 || cc.FamiliesRevoked != 0 {
			t.Errorf("%s leeway %s: %d reuses, %d families revoked; want 0", cc.Point, cc.Leeway, cc.ReuseDetected, cc.FamiliesRevoked)
		}
	}
}

// checkStall is RT-09: whatever A decides when it resumes, the refresh
// token was sent once and the connection is not corrupt.
func checkStall(t *testing.T, rep *crash.Report) {
	t.Helper()
	if len(rep.Cases) != 1 || rep.Mode != "stall" {
		t.Fatalf("stall report: mode %s, %d cases; want one stall case", rep.Mode, len(rep.Cases))
	}
	cc := rep.Cases[0]
	if cc.Trials != 1 || cc.Recovered+cc.Flagged != 1 || cc.MaxPerToken != 1 || cc.ReuseDetected != 0 {
		t.Errorf("stall: %d trials, %d recovered, %d flagged, %d refresh requests with one token, %d reuses; want 1 trial settled, 1 request, 0 reuses\n%s",
			cc.Trials, cc.Recovered, cc.Flagged, cc.MaxPerToken, cc.ReuseDetected, strings.Join(cc.Failures, "\n"))
	}
}

// TestLoadCrashNeedsFailpointBinary: without --binary the command says
// how to build one (a usage error, exit 2).
func TestLoadCrashNeedsFailpointBinary(t *testing.T) {
	code, _, stderr := runCmd(t, nil, "load", "crash", "--trials", "1")
	if code != 2 || !strings.Contains(stderr, "go build -tags failpoint") {
		t.Errorf("load crash without --binary = exit %d, %q; want 2 and how to build the binary", code, stderr)
	}
}
