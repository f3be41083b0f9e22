package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/api"
)

// clock is a settable clock for the API's Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestAuthFailureLimitSEC53 checks the failed-authentication limit of one
// client address: 401s spend it, then every authenticated route answers
// 429 with Retry-After and the usual error body before any key is looked
// up, and successful requests spend nothing (SEC-53; the per-address
// buckets behind proxies are tested in internal/app).
func TestAuthFailureLimitSEC53(t *testing.T) {
	clk := &clock{now: time.Now()}
	e := newEnv(t, func(o *api.Options) {
		o.Now = clk.Now
		o.AuthFailureBurst = 3
		o.AuthFailureEvery = 2 * time.Second
	})
	_, key := e.tenant("acme")
	badKey := func(i int) string { return "gdk_" + strings.Repeat(string(rune('A'+i)), 43) }

	for i := range 3 {
		if r := e.do("GET", "/v1/connections", badKey(i), nil); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, r.status)
		}
	}
	reads := e.st.keyReads.Load()
	for name, k := range map[string]string{"unknown key": badKey(10), "no key": "", "valid key": key, "admin key": e.adminKey} {
		r := e.do("GET", "/v1/connections", k, nil)
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("%s after the burst = %d, want 429; body %s", name, r.status, r.body)
		}
		if got := r.errorCode(); got != "rate_limited" {
			t.Errorf("%s: error code = %q, want rate_limited", name, got)
		}
		if got := r.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("%s: Content-Type = %q, want application/json", name, got)
		}
		if got := r.header.Get("Retry-After"); got != "2" {
			t.Errorf("%s: Retry-After = %q, want 2", name, got)
		}
	}
	if n := e.st.keyReads.Load() - reads; n != 0 {
		t.Errorf("refused requests read %d keys from the store, want none", n)
	}
	// A route without authentication is not limited.
	if r := e.do("GET", "/v1/openapi.json", "", nil); r.status != http.StatusOK {
		t.Errorf("GET /v1/openapi.json while limited = %d, want 200", r.status)
	}

	// Half the interval: still nothing to spend, and Retry-After says so.
	clk.Advance(time.Second)
	if r := e.do("GET", "/v1/connections", key, nil); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Errorf("after 1s = %d, Retry-After %q; want 429 and 1", r.status, r.header.Get("Retry-After"))
	}
	// One failure regained: successful requests spend nothing of it.
	clk.Advance(time.Second)
	for i := range 5 {
		if r := e.do("GET", "/v1/connections", key, nil); r.status != http.StatusOK {
			t.Fatalf("valid request %d after the refill = %d, want 200", i+1, r.status)
		}
	}
	if r := e.do("GET", "/v1/connections", badKey(11), nil); r.status != http.StatusUnauthorized {
		t.Errorf("the regained failure = %d, want 401", r.status)
	}
	if r := e.do("GET", "/v1/connections", key, nil); r.status != http.StatusTooManyRequests {
		t.Errorf("after spending it = %d, want 429", r.status)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "status=429") || !strings.Contains(logs, "client_ip=127.0.0.1") {
		t.Errorf("the refusal is not logged with the client address:\n%s", logs)
	}
}

// TestForbiddenIsNotAFailureSEC53: a valid key on a route it may not call
// (403) or naming no tenant (400) is not a failed authentication.
func TestForbiddenIsNotAFailureSEC53(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.AuthFailureBurst = 1 })
	_, key := e.tenant("acme")
	for range 3 {
		if r := e.do("GET", "/v1/tenants", key, nil); r.status != http.StatusForbidden {
			t.Fatalf("tenant key on an admin route = %d, want 403", r.status)
		}
		if r := e.do("GET", "/v1/connections", e.adminKey, nil); r.status != http.StatusBadRequest {
			t.Fatalf("admin key without a tenant = %d, want 400", r.status)
		}
	}
	if r := e.do("GET", "/v1/connections", "gdk_"+strings.Repeat("Z", 43), nil); r.status != http.StatusUnauthorized {
		t.Errorf("first bad key = %d, want 401", r.status)
	}
}
