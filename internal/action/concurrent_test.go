package action_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/testenv"
)

// TestAction401sConcurrentOneRefresh: 10 concurrent pax8.list_companies
// calls for one connection whose access token the vendor refuses cost
// exactly one refresh-token request between them (DESIGN.md, one refresh
// per expiry), and every call succeeds after its retry. The sandbox runs
// on its own clock, moved past the access token's 30 s lifetime while
// grantd's stands still, so the vendor refuses a token grantd believes
// fresh; 30 s stays within the 60 s leeway on a refreshed id_token's iat.
func TestAction401sConcurrentOneRefresh(t *testing.T) {
	const ttl = 30 * time.Second
	sbClock, grantd := testenv.NewClock(), testenv.NewClock()
	st := sandbox.DefaultSettings()
	st.AccessTTL = ttl
	e := newEnvWith(t, testenv.Options{Sandbox: sandbox.Options{Now: sbClock.Now, Pax8: st}, Now: grantd.Now}, action.Options{})
	old := e.token()
	sbClock.Advance(ttl + time.Second)

	const calls = 10
	got := make([]reply, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { got[i] = e.call(e.conn.ID, "pax8.list_companies", `{"size":1}`) })
	}
	wg.Wait()
	for i, r := range got {
		if r.status != http.StatusOK {
			t.Errorf("call %d = %d %s, want 200 after its retry", i, r.status, r.raw)
		}
	}
	n := 0
	for _, v := range e.Sandbox.Stats().Providers["pax8"].TokenRequests["refresh_token"] {
		n += v
	}
	if n != 1 {
		t.Errorf("refresh-token requests at the sandbox = %d, want exactly 1 for %d concurrent calls", n, calls)
	}
	if a, b := e.APICallsWithStatus("401"), e.APICallsWithStatus("200"); a < calls/2 || a > calls || b != calls {
		t.Errorf("sandbox API calls: 401×%d 200×%d, want %d..%d refused and %d answered", a, b, calls/2, calls, calls)
	}
	if e.token() == old {
		t.Error("the access token did not change")
	}
}
