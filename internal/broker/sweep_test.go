package broker_test

import (
	"testing"
	"time"

	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/store"
)

// TestSweepKeepsIdleGrantAlive: a grant nobody uses for months outlives the
// provider's 30-day inactivity lifetime because the background sweep
// refreshes it before the idle deadline; without sweeps it would lapse.
func TestSweepKeepsIdleGrantAlive(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	l := &refresh.Scheduler{Broker: e.b}
	for day := 1; day <= 120; day++ {
		e.clk.Advance(24 * time.Hour)
		l.Sweep(ctx)
	}
	got, _ := e.st.GetConnection(ctx, c.ID)
	if got.Status != store.StatusActive {
		t.Fatalf("after 120 idle days: status %s (%s), want active", got.Status, got.LastError)
	}
	if _, err := e.b.Token(ctx, c.ID); err != nil {
		t.Fatalf("Token after 120 idle days: %v", err)
	}
	if n := e.sb.Stats().Providers["pax8"].RefreshReuseDetected; n != 0 {
		t.Errorf("reuse detected = %d, want 0", n)
	}
}
