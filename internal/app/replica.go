package app

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/rotate"
)

// ReplicaHeartbeat is how often a serving App records in the replica
// registry that it is still running, well within
// [rotate.ReplicaStaleAfter].
const ReplicaHeartbeat = 30 * time.Second

// replicaWriteTimeout bounds one write to the replica registry.
const replicaWriteTimeout = 5 * time.Second

// Owner returns the name this process uses in refresh leases and in the
// replica registry (under [rotate.MetaReplicaPrefix]). It is chosen once
// per App, so two processes never share it.
func (a *App) Owner() string { return a.owner }

// newHeartbeatGauge registers the time of the last replica record
// written, so that an alert can catch a replica the registry no longer
// sees (and that a rewrap would therefore not wait for).
func newHeartbeatGauge(reg prometheus.Registerer) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "grantd_replica_heartbeat_timestamp_seconds",
		Help: "Unix time of the last replica registry record this process wrote.",
	})
	reg.MustRegister(g)
	return g
}

// replica returns this process's registry record, seen now: the ids of
// its vault keys (never the keys or their fingerprints), where it runs
// and whether it has stopped.
func (a *App) replica(started time.Time, stopped bool) rotate.Replica {
	host, _ := os.Hostname()
	return rotate.Replica{
		Owner:     a.owner,
		KeyIDs:    a.vault.IDs(),
		Primary:   a.vault.Primary(),
		Hostname:  host,
		PID:       os.Getpid(),
		Version:   buildVersion(),
		StartedAt: started.UTC(),
		SeenAt:    a.now().UTC(),
		Stopped:   stopped,
	}
}

// recordReplica writes this process's registry record. A failure is
// logged and otherwise ignored: the registry only informs key rotation,
// and serving must not depend on it.
func (a *App) recordReplica(ctx context.Context, started time.Time, stopped bool) {
	ctx, cancel := context.WithTimeout(ctx, replicaWriteTimeout)
	defer cancel()
	r := a.replica(started, stopped)
	if err := rotate.PutReplica(ctx, a.store, r); err != nil {
		a.log.WarnContext(ctx, "replica registry write failed", "owner", a.owner, "stopped", stopped, "err", err)
		return
	}
	if a.heartbeat != nil {
		a.heartbeat.Set(float64(r.SeenAt.UnixMilli()) / 1000)
	}
}

// runHeartbeat records the process as running every [ReplicaHeartbeat]
// until ctx is done.
func (a *App) runHeartbeat(ctx context.Context, started time.Time) {
	t := time.NewTicker(ReplicaHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.recordReplica(ctx, started, false)
		}
	}
}

// ReplicaCountEvery is how often a replica counts the live replicas that
// share each provider's max_refresh_rate.
const ReplicaCountEvery = 2 * time.Second

// countReplicas tells the broker, every [ReplicaCountEvery] until ctx is
// done, how many replicas are live (heartbeat within
// [rotate.ReplicaStaleAfter], not stopped), so that together they keep
// under each provider's max_refresh_rate. A replica that died without
// saying so counts until it is stale, which errs on the slow side.
func (a *App) countReplicas(ctx context.Context) {
	count := func() {
		rs, err := rotate.ListReplicas(ctx, a.store)
		if err != nil {
			return
		}
		now, n := a.now(), 0
		for _, r := range rs {
			if !r.Stopped && now.Sub(r.SeenAt) < rotate.ReplicaStaleAfter {
				n++
			}
		}
		a.broker.SetReplicas(n)
	}
	count()
	t := time.NewTicker(ReplicaCountEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			count()
		}
	}
}

// buildVersion is the module version grantd was built as, or "(devel)"
// with the VCS revision when the build recorded one.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "(devel) " + s.Value[:12]
		}
	}
	return "(devel)"
}
