package proxy_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/proxy"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/testenv"
)

// refusedTTL is the sandbox's access-token lifetime in the 401 tests:
// short enough that moving the sandbox's clock past it stays within the
// 60 s leeway grantd allows on a refreshed id_token's iat (OIDC-06).
const refusedTTL = 30 * time.Second

// refusingEnv is an env whose sandbox runs on its own clock, returned so
// that a test can move the sandbox past the access token's lifetime while
// grantd's clock stands still: the vendor then refuses a token grantd
// still believes fresh, as after a revocation or a clock skew at the
// vendor.
func refusingEnv(t *testing.T) (*env, *testenv.Clock) {
	t.Helper()
	sbClock := testenv.NewClock()
	grantd := testenv.NewClock()
	st := sandbox.DefaultSettings()
	st.AccessTTL = refusedTTL
	e := newEnv(t, testenv.Options{Sandbox: sandbox.Options{Now: sbClock.Now, Pax8: st}, Now: grantd.Now}, proxy.Options{})
	return e, sbClock
}

// TestProxy401sConcurrentOneRefresh: 20 concurrent proxied calls for one
// connection whose access token the vendor now refuses (nearly all get
// 401 on their first attempt) cost exactly one refresh-token request
// between them (DESIGN.md, one refresh per expiry: each forced refresh is
// fenced on the refused token, so a 401 that arrives after the refresh
// was stored sends nothing); every call succeeds on its retry with the
// new token.
func TestProxy401sConcurrentOneRefresh(t *testing.T) {
	e, sbClock := refusingEnv(t)
	old := e.token()
	sbClock.Advance(refusedTTL + time.Second)

	const calls = 20
	got := make([]response, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { got[i] = e.get("companies?page=0&size=1") })
	}
	wg.Wait()
	for i, r := range got {
		if r.status != http.StatusOK {
			t.Errorf("call %d = %d %q, want 200 after its retry", i, r.status, r.body)
		}
	}
	if n := e.refreshes(); n != 1 {
		t.Errorf("refresh-token requests at the sandbox = %d, want exactly 1 for %d concurrent 401s", n, calls)
	}
	// A call whose first attempt comes after the refresh needs no retry;
	// most meet the refused token, some after the refresh is stored, and
	// those are fenced: they get the new token without another refresh.
	if a, b := e.APICallsWithStatus("401"), e.APICallsWithStatus("200"); a < calls/2 || a > calls || b != calls {
		t.Errorf("sandbox API calls: 401×%d 200×%d, want %d..%d refused and %d answered", a, b, calls/2, calls, calls)
	}
	if e.token() == old {
		t.Error("the access token did not change")
	}
}
