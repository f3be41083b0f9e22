package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/rotate"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/vault"
)

// replicaOf returns the registry record of owner, failing when there is
// not exactly one.
func replicaOf(t *testing.T, a *App, owner string) rotate.Replica {
	t.Helper()
	rs, err := rotate.ListReplicas(t.Context(), a.Store())
	if err != nil {
		t.Fatalf("ListReplicas: %v", err)
	}
	if len(rs) != 1 || rs[0].Owner != owner {
		t.Fatalf("replica records = %+v, want one for %s", rs, owner)
	}
	return rs[0]
}

// TestServeRecordsReplica is ENC-05's replica registry: a serving App
// records its vault key ids (and nothing of the keys themselves) under its
// lease owner name before it takes requests, and marks the record stopped
// when it shuts down cleanly.
func TestServeRecordsReplica(t *testing.T) {
	te := newTestEnv(t)
	key2, err := vault.GenerateKey(2)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1", te.key, key2), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer a.Close()
	if a.Owner() == "" || a.Broker().Owner() != a.Owner() {
		t.Fatalf("App.Owner() = %q, broker lease owner = %q; want one non-empty name", a.Owner(), a.Broker().Owner())
	}
	if rs, err := rotate.ListReplicas(t.Context(), a.Store()); err != nil || len(rs) != 0 {
		t.Fatalf("replica records before Serve = %+v, %v; want none", rs, err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- a.Serve(ctx, ln) }()
	// Serve records the replica before it serves, so once a request is
	// answered the record is there.
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	got := replicaOf(t, a, a.Owner())
	resp, err = http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "grantd_replica_heartbeat_timestamp_seconds 1") {
		t.Errorf("/metrics has no heartbeat timestamp:\n%s", grep(string(body), "grantd_replica"))
	}
	host, _ := os.Hostname()
	want := rotate.Replica{Owner: a.Owner(), KeyIDs: []uint32{1, 2}, Primary: 2, Hostname: host, PID: os.Getpid()}
	opts := cmp.Options{cmpIgnoreReplicaTimes, cmpIgnoreVersion}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("replica record while serving (-want +got):\n%s", diff)
	}
	if got.Version == "" || got.StartedAt.Before(start.Add(-time.Second)) || got.SeenAt.Before(got.StartedAt) {
		t.Errorf("replica record version %q started %v seen %v; want a version and times from this start", got.Version, got.StartedAt, got.SeenAt)
	}
	raw, err := a.Store().GetMeta(t.Context(), rotate.MetaReplicaPrefix+a.Owner())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []vault.Key{te.key, key2} {
		_, secret, _ := strings.Cut(k.Encode(), ":")
		if strings.Contains(raw, secret) {
			t.Errorf("replica record %s holds key %d's material", raw, k.ID)
		}
	}
	if fp := a.Vault().Fingerprint(); strings.Contains(raw, fp) {
		t.Errorf("replica record %s holds the keyring fingerprint", raw)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	stopped := replicaOf(t, a, a.Owner())
	want.Stopped = true
	if diff := cmp.Diff(want, stopped, opts); diff != "" {
		t.Errorf("replica record after shutdown (-want +got):\n%s", diff)
	}
	if !stopped.StartedAt.Equal(got.StartedAt) || stopped.SeenAt.Before(got.SeenAt) {
		t.Errorf("after shutdown started %v seen %v; want started %v and seen no earlier than %v",
			stopped.StartedAt, stopped.SeenAt, got.StartedAt, got.SeenAt)
	}
}

var (
	cmpIgnoreReplicaTimes = cmp.FilterPath(func(p cmp.Path) bool {
		s := p.String()
		return s == "StartedAt" || s == "SeenAt"
	}, cmp.Ignore())
	cmpIgnoreVersion = cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Version" }, cmp.Ignore())
)

// TestReplicaHeartbeat: while serving, the record's seen_at moves on every
// [ReplicaHeartbeat], and a registry that cannot be written is logged,
// not fatal (ENC-05).
func TestReplicaHeartbeat(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st, err := sqlstore.Open(t.Context(), filepath.Join(dir, "grantd.db"), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		k, _ := vault.GenerateKey(1)
		kr, err := vault.New([]vault.Key{k}, 1)
		if err != nil {
			t.Fatal(err)
		}
		var logs strings.Builder
		a := &App{store: st, vault: kr, now: time.Now, owner: "grantd-test", log: slog.New(slog.NewTextHandler(&logs, nil))}
		started := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.runHeartbeat(ctx, started)
		}()
		synctest.Wait()
		if rs, _ := rotate.ListReplicas(t.Context(), st); len(rs) != 0 {
			t.Errorf("records before the first heartbeat = %+v, want none (Serve writes the first)", rs)
		}
		for i := 1; i <= 3; i++ {
			time.Sleep(ReplicaHeartbeat)
			synctest.Wait()
			rs, err := rotate.ListReplicas(t.Context(), st)
			if err != nil || len(rs) != 1 {
				t.Fatalf("heartbeat %d: records %+v, %v; want one", i, rs, err)
			}
			if want := started.Add(time.Duration(i) * ReplicaHeartbeat); !rs[0].SeenAt.Equal(want.UTC()) || rs[0].Stopped {
				t.Errorf("heartbeat %d: seen %v stopped %v, want seen %v, running", i, rs[0].SeenAt, rs[0].Stopped, want)
			}
		}
		cancel()
		<-done
		// A write that fails (here: the store is closed) is logged.
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		a.recordReplica(t.Context(), started, true)
		if !strings.Contains(logs.String(), "replica registry write failed") {
			t.Errorf("logs = %q, want a warning about the failed write", logs.String())
		}
	})
}
