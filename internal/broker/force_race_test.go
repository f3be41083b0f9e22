package broker_test

import (
	"context"
	"testing"
	"time"
)

// TestForcedRefreshWaitsForRefreshInFlight is RT-09 inside one process: a
// forced refresh (a 401 seen by the proxy) that arrives while a refresh of
// the same connection is in flight must not send the same refresh token a
// second time. Both run in one process under one lease owner, so the lease
// alone cannot keep them apart.
func TestForcedRefreshWaitsForRefreshInFlight(t *testing.T) {
	e, g, c, done := heldRefresh(t)
	ctx := t.Context()

	// The forced refresh must wait for the one in flight; give up waiting
	// after a while and check that it sent nothing meanwhile.
	fctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	e.b.Refresh(fctx, c.ID, "")
	if n := e.tokenRequests("refresh_token"); n != 0 {
		t.Errorf("forced refresh sent %d refresh requests while another was in flight, want 0", n)
	}
	g.release(`{"error":"temporarily_unavailable"}`, 503)
	<-done
}
