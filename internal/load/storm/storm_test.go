package storm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/store/storetest"
)

// buildGrantd builds the grantd binary the replicas run.
func buildGrantd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "grantd")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/grantd/grantd/cmd/grantd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

// TestStormCI is the CI-sized storm (RT-01, RT-02 at fleet scale): 1,000
// connections fall due at once, two grantd processes share a PostgreSQL
// database and drain them against the strict sandbox (rotation on, reuse
// interval 0). Every connection must be refreshed exactly once: exactly
// 1,000 refresh requests reach the sandbox, no refresh token is reused,
// no family is revoked, no request is refused by the rate cap, and the
// database shows all 1,000 refreshed and still active.
func TestStormCI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	pg := storetest.PostgresURL(t)
	var progress strings.Builder
	rep, err := Run(t.Context(), Options{
		Binary: buildGrantd(t), Database: pg, Connections: 1000, Replicas: 2, Workers: 8,
		Timeout: 3 * time.Minute, BaselineDuration: time.Second, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	t.Log(progress.String())
	if len(rep.Rounds) != 1 {
		t.Fatalf("%d rounds, want 1", len(rep.Rounds))
	}
	rd := rep.Rounds[0]
	if rd.RefreshRequests != 1000 || rd.RefreshOK != 1000 || rd.Refreshed != 1000 || rd.Inactive != 0 ||
		rd.ReuseDetected != 0 || rd.FamiliesRevoked != 0 || rd.TooMany != 0 || !rep.Passed {
		t.Errorf("storm = %d refresh requests (%d ok), %d refreshed, %d inactive, %d reuse, %d revoked, %d 429, failures %q; want 1000 (1000), 1000, 0, 0, 0, 0, none",
			rd.RefreshRequests, rd.RefreshOK, rd.Refreshed, rd.Inactive, rd.ReuseDetected, rd.FamiliesRevoked, rd.TooMany, rd.Failures)
	}
	if len(rd.ReplicaResources) != 2 || rd.ReplicaResources[0].PeakRSSKB <= 0 || rd.Baseline <= 0 {
		t.Errorf("replica resources %+v, baseline %.0f/s; want two replicas measured and a baseline", rd.ReplicaResources, rd.Baseline)
	}
}

// TestOptionsValidate: bad options get a clear error before anything
// starts.
func TestOptionsValidate(t *testing.T) {
	ok := Options{Binary: "grantd", Database: "sqlite", Connections: 10, Replicas: 1, Workers: 8}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v", ok, err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no binary", func(o *Options) { o.Binary = "" }, "no grantd binary"},
		{"no connections", func(o *Options) { o.Connections = 0 }, "connections must be"},
		{"too many connections", func(o *Options) { o.Connections = 1_000_000 }, "connections must be"},
		{"replicas on sqlite", func(o *Options) { o.Replicas = 2 }, "needs PostgreSQL"},
		{"no workers", func(o *Options) { o.Workers = 0 }, "workers must be"},
		{"negative latency", func(o *Options) { o.Latency = -time.Second }, "latency must be"},
		{"negative cap", func(o *Options) { o.Cap = -1 }, "cap must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			if err := o.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestCPUSeconds reads this process's own CPU time, which a busy loop
// makes grow by at least 50 ms (within 10 s, on a shared machine), while
// sleeping adds almost nothing.
func TestCPUSeconds(t *testing.T) {
	before, err := cpuSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	now := before
	for end := time.Now().Add(10 * time.Second); now-before < 0.05 && time.Now().Before(end); {
		for spin := time.Now().Add(10 * time.Millisecond); time.Now().Before(spin); {
		}
		if now, err = cpuSeconds(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if now-before < 0.05 {
		t.Fatalf("CPU seconds went from %.2f to %.2f over 10 s of busy loop", before, now)
	}
	time.Sleep(300 * time.Millisecond)
	slept, err := cpuSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if slept-now > 0.2 {
		t.Errorf("CPU seconds grew %.2f over a 300 ms sleep", slept-now)
	}
}

// TestIdleSQLite: with connections stored and none due, a replica sends
// no refresh request, and both scheduler queries are planned on the
// refresh schedule's index rather than a scan of the table.
func TestIdleSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	rep, err := Idle(t.Context(), IdleOptions{Binary: buildGrantd(t), Database: "sqlite", Connections: 500, Workers: 8, Duration: time.Second})
	if err != nil {
		t.Fatalf("Idle: %v", err)
	}
	if rep.RefreshRequests != 0 || rep.StartMs <= 0 || rep.RSSKB <= 0 || rep.MeasuredSeconds < 1 {
		t.Errorf("idle = %+v; want 0 refresh requests, a start time, an RSS and at least 1 s measured", rep)
	}
	claim, nextDue, ok := strings.Cut(rep.ClaimPlan, "next due:")
	if !ok || !strings.Contains(claim, "connections_refresh_due") || !strings.Contains(nextDue, "connections_refresh_due") ||
		strings.Contains(rep.ClaimPlan, "SCAN connections") {
		t.Errorf("plan:\n%s\nwant both queries on connections_refresh_due, no scan of connections", rep.ClaimPlan)
	}
}
