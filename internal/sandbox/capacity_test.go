package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
)

// fakeClock is a settable base clock for [sandbox.Options.Now].
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// mint mints n grants of the test client through the Go API.
func mint(t *testing.T, s *sandbox.Server, n int) []sandbox.MintedGrant {
	t.Helper()
	var out []sandbox.MintedGrant
	err := s.MintGrants(sandbox.BulkGrants{ClientID: clientID, Count: n, Scopes: []string{"Manage:Pax8Data", "offline_access"}},
		func(g sandbox.MintedGrant) error { out = append(out, g); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTokenRateLimit sets a limit of 1/s with a burst of 3 over the control
// API and refreshes 10 grants at once with x/oauth2: 3 pass, 7 get Auth0's
// 429 too_many_requests with Retry-After, and the stats count them. One
// second later one more passes.
func TestTokenRateLimit(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	e := newEnv(t, sandbox.Options{Now: clock.Now})
	if status, b := send(t, "POST", controlURL(e)+"/settings", `{"token_rate_limit":1,"token_rate_burst":3}`); status != http.StatusOK {
		t.Fatalf("POST settings = %d %s", status, b)
	}
	grants := mint(t, e.s, 11)
	var ok, limited int
	for _, g := range grants[:10] {
		_, err := e.refresh(g.RefreshToken)
		var re *oauth2.RetrieveError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &re) && re.Response.StatusCode == http.StatusTooManyRequests:
			limited++
			if re.ErrorCode != "too_many_requests" || re.ErrorDescription == "" {
				t.Errorf("429 body = %s, want error too_many_requests with a description", re.Body)
			}
			if ra := re.Response.Header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After = %q, want 1", ra)
			}
			h := re.Response.Header
			if lim, rem, reset := h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"); lim != "3" || rem != "0" ||
				reset != strconv.FormatInt(clock.Now().Add(3*time.Second).Unix(), 10) {
				t.Errorf("X-RateLimit-Limit, -Remaining, -Reset = %q, %q, %q; want 3, 0 and the time the bucket is full", lim, rem, reset)
			}
		default:
			t.Fatalf("refresh = %v", err)
		}
	}
	if ok != 3 || limited != 7 {
		t.Errorf("refreshes: %d ok, %d limited; want 3 and 7", ok, limited)
	}
	ps := e.s.Stats().Providers[sandbox.Pax8]
	if got := ps.TokenRequests["refresh_token"]; got["ok"] != 3 || got["too_many_requests"] != 7 || ps.TokenRateLimited != 7 {
		t.Errorf("stats: token_requests.refresh_token = %v, token_rate_limited = %d; want ok 3, too_many_requests 7, 7", got, ps.TokenRateLimited)
	}
	// A refused refresh consumed nothing: the token still works later.
	clock.Add(time.Second)
	if _, err := e.refresh(grants[9].RefreshToken); err != nil {
		t.Errorf("refresh a second later with a token refused by the limit = %v", err)
	}
	if _, err := e.refresh(grants[10].RefreshToken); err == nil {
		t.Error("second refresh within that second passed the limit")
	}
	// Lifting the limit admits everything again.
	send(t, "POST", controlURL(e)+"/settings", `{"token_rate_limit":0}`)
	if _, err := e.refresh(grants[10].RefreshToken); err != nil {
		t.Errorf("refresh without a limit = %v", err)
	}
	for _, bad := range []string{`{"token_rate_limit":-1}`, `{"token_rate_burst":-2}`, `{"token_latency":"-1s"}`, `{"token_rate_limit":"fast"}`} {
		if status, _ := send(t, "POST", controlURL(e)+"/settings", bad); status != http.StatusBadRequest {
			t.Errorf("POST settings %s = %d, want 400", bad, status)
		}
	}
}

// TestTokenLatency sets a token latency: responses take at least that long,
// and a client that gives up earlier is counted as canceled.
func TestTokenLatency(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	const latency = 300 * time.Millisecond
	if status, b := send(t, "POST", controlURL(e)+"/settings", `{"token_latency":"300ms"}`); status != http.StatusOK {
		t.Fatalf("POST settings = %d %s", status, b)
	}
	grants := mint(t, e.s, 2)
	start := time.Now()
	if _, err := e.refresh(grants[0].RefreshToken); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < latency {
		t.Errorf("refresh took %v, want at least %v", took, latency)
	}
	ctx, cancel := context.WithTimeout(e.ctx(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := e.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: grants[1].RefreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err == nil {
		t.Fatal("refresh with a 50ms deadline under 300ms latency succeeded")
	}
	waitFor(t, func() bool { return tokenCounts(e.s, "refresh_token")["canceled"] == 1 })
	if took := time.Since(start); took >= latency {
		t.Errorf("canceled request held for %v, want the handler to stop with the client", took)
	}
	// The canceled refresh processed nothing: the token still works.
	send(t, "POST", controlURL(e)+"/settings", `{"token_latency":"0s"}`)
	if _, err := e.refresh(grants[1].RefreshToken); err != nil {
		t.Errorf("refresh after a canceled one = %v", err)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}
