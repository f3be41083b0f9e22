package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/proxy"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/testenv"
)

func (e *env) fault(f sandbox.Fault) {
	e.t.Helper()
	f.Endpoint = "api"
	if err := e.Sandbox.AddFault(f); err != nil {
		e.t.Fatal(err)
	}
}

// TestUnauthorizedRefreshesOnceAndRetries: a 401 from the API forces one
// refresh and one retry; the caller sees the retry's answer.
func TestUnauthorizedRefreshesOnceAndRetries(t *testing.T) {
	e := newEnv(t, testenv.Options{}, proxy.Options{})
	old := e.token()
	e.fault(sandbox.Fault{Kind: "unauthorized"})
	got := e.get("companies")
	if got.status != http.StatusOK {
		t.Fatalf("GET after a 401 = %d %q, want 200", got.status, got.body)
	}
	if n := e.refreshes(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	if a, b := e.APICallsWithStatus("401"), e.APICallsWithStatus("200"); a != 1 || b != 1 {
		t.Errorf("sandbox API calls: 401×%d 200×%d, want 1 and 1", a, b)
	}
	if e.token() == old {
		t.Errorf("the access token did not change after the forced refresh")
	}
}

// TestUnauthorizedTwiceIsPassedThrough: the retry happens once; a second
// 401 goes to the caller, without the upstream's WWW-Authenticate (SEC-44).
func TestUnauthorizedTwiceIsPassedThrough(t *testing.T) {
	e := newEnv(t, testenv.Options{}, proxy.Options{})
	e.fault(sandbox.Fault{Kind: "unauthorized", Count: 5})
	got := e.get("companies")
	if got.status != http.StatusUnauthorized || !strings.Contains(got.body, "UNAUTHORIZED") {
		t.Errorf("GET = %d %q, want the upstream's 401", got.status, got.body)
	}
	if n := e.refreshes(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	if n := e.APICallsWithStatus("401"); n != 2 {
		t.Errorf("sandbox 401s = %d, want 2 (one try, one retry)", n)
	}
}

// TestUnauthorizedReplaysSmallBodies: a POST body within ReplayLimit is
// sent again after the refresh; a larger one is streamed once and the 401
// goes to the caller.
func TestUnauthorizedReplaysSmallBodies(t *testing.T) {
	var calls atomic.Int64
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	e := newEnv(t, testenv.Options{APIBaseURL: up.URL + "/v1"}, proxy.Options{ReplayLimit: 16})
	got := e.do(http.MethodPost, proxy.Prefix+e.conn.ID+"/orders", strings.NewReader(`{"small":1}`), http.Header{"Content-Type": {"application/json"}})
	if got.status != http.StatusCreated {
		t.Fatalf("POST small = %d, want 201 after the retry", got.status)
	}
	reqs := up.requests()
	if len(reqs) != 2 || reqs[0].body != `{"small":1}` || reqs[1].body != `{"small":1}` {
		t.Errorf("upstream requests = %+v, want the same body twice", reqs)
	}
	if reqs[0].header.Get("Authorization") == reqs[1].header.Get("Authorization") {
		t.Errorf("the retry carried the same token as the refused request")
	}

	calls.Store(0)
	big := strings.Repeat("x", 64)
	got = e.do(http.MethodPost, proxy.Prefix+e.conn.ID+"/orders", strings.NewReader(big), nil)
	if got.status != http.StatusUnauthorized {
		t.Errorf("POST over the replay limit = %d, want the upstream's 401", got.status)
	}
	if n := len(up.requests()); n != 3 {
		t.Errorf("upstream requests = %d, want 3 (no retry of the large body)", n)
	}
}

// TestUpstreamErrorsPassThrough: 429 with Retry-After, 500 and an HTML error
// page reach the caller as the upstream sent them.
func TestUpstreamErrorsPassThrough(t *testing.T) {
	e := newEnv(t, testenv.Options{}, proxy.Options{})

	e.fault(sandbox.Fault{Kind: "rate_limited"})
	got := e.get("companies")
	if got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") != "1" {
		t.Errorf("rate limited: %d Retry-After %q, want 429 and 1", got.status, got.header.Get("Retry-After"))
	}

	e.fault(sandbox.Fault{Kind: "server_error"})
	got = e.get("companies")
	if got.status != http.StatusInternalServerError || !strings.Contains(got.body, "INTERNAL_SERVER_ERROR") {
		t.Errorf("server error: %d %q, want the upstream's 500 body", got.status, got.body)
	}

	e.fault(sandbox.Fault{Kind: "html"})
	got = e.get("companies")
	if got.status != http.StatusBadGateway || !strings.HasPrefix(got.header.Get("Content-Type"), "text/html") || !strings.Contains(got.body, "<h1>502 Bad Gateway</h1>") {
		t.Errorf("html: %d %q %q, want the upstream's HTML 502", got.status, got.header.Get("Content-Type"), got.body)
	}
	if n := e.refreshes(); n != 0 {
		t.Errorf("refreshes = %d, want 0: only 401 forces one", n)
	}
}

// TestUpstreamTimeout: an upstream slower than HeaderTimeout gets the
// caller a 504 in the API's error shape.
func TestUpstreamTimeout(t *testing.T) {
	e := newEnv(t, testenv.Options{}, proxy.Options{HeaderTimeout: 100 * time.Millisecond})
	e.fault(sandbox.Fault{Kind: "slow", Delay: 5 * time.Second})
	start := time.Now()
	got := e.get("companies")
	if got.status != http.StatusGatewayTimeout || got.errorCode() != "upstream_timeout" {
		t.Errorf("slow upstream: %d %q, want 504 upstream_timeout", got.status, got.body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the timeout took %v", d)
	}
}

// TestUpstreamUnreachable: a refused connection is a 502 that does not
// reveal the address.
func TestUpstreamUnreachable(t *testing.T) {
	dead := newRecorder(t, nil)
	dead.Close()
	e := newEnv(t, testenv.Options{APIBaseURL: dead.URL + "/v1"}, proxy.Options{})
	got := e.get("companies")
	if got.status != http.StatusBadGateway || got.errorCode() != "upstream_unreachable" || strings.Contains(got.body, hostOf(dead.URL)) {
		t.Errorf("unreachable: %d %q, want 502 upstream_unreachable without the address", got.status, got.body)
	}
}

// TestBodyLimits: an oversized upstream body is refused (declared length)
// or cut off (streamed), and an oversized request body gets 413.
func TestBodyLimits(t *testing.T) {
	const limit = 1 << 10
	payload := strings.Repeat("p", 4*limit)
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/declared" {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
			io.WriteString(w, payload)
			return
		}
		if r.URL.Path == "/v1/small" {
			io.WriteString(w, "ok")
			return
		}
		for range 4 { // chunked, length unknown up front
			io.WriteString(w, payload[:limit])
			w.(http.Flusher).Flush()
		}
	})
	e := newEnv(t, testenv.Options{APIBaseURL: up.URL + "/v1"}, proxy.Options{MaxResponseBody: limit, MaxRequestBody: limit})

	got := e.get("declared")
	if got.status != http.StatusBadGateway || got.errorCode() != "upstream_response_too_large" {
		t.Errorf("declared oversized body: %d %q, want 502 upstream_response_too_large", got.status, got.body)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+proxy.Prefix+e.conn.ID+"/streamed", nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	// The abort shows as an error either before the headers (the first
	// read already passed the limit) or while reading the body.
	var b []byte
	resp, err := e.client.Do(req)
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil || len(b) > limit {
		t.Errorf("streamed oversized body: read %d bytes, err %v; want the stream cut at %d bytes with an error", len(b), err, limit)
	}

	n := len(up.requests())
	got = e.do(http.MethodPost, proxy.Prefix+e.conn.ID+"/small", strings.NewReader(payload), nil)
	if got.status != http.StatusRequestEntityTooLarge || got.errorCode() != "request_too_large" {
		t.Errorf("oversized request (declared): %d %q, want 413", got.status, got.body)
	}
	if len(up.requests()) != n {
		t.Errorf("an oversized declared request body reached upstream")
	}
	// A chunked body of unknown length is cut off as it streams.
	got = e.do(http.MethodPost, proxy.Prefix+e.conn.ID+"/small", io.MultiReader(bytes.NewReader([]byte(payload))), nil)
	if got.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized request (chunked): %d %q, want 413", got.status, got.body)
	}
}

// TestMetrics counts proxied requests by provider and status class.
func TestMetrics(t *testing.T) {
	e := newEnv(t, testenv.Options{}, proxy.Options{})
	e.get("companies")
	e.get("companies")
	e.fault(sandbox.Fault{Kind: "server_error"})
	e.get("companies")
	got := map[string]float64{}
	histograms := 0
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "grantd_proxy_requests_total":
				got[labels["provider"]+" "+labels["class"]] = m.GetCounter().GetValue()
			case "grantd_proxy_request_duration_seconds":
				histograms++
				if c := m.GetHistogram().GetSampleCount(); c != 3 {
					t.Errorf("latency samples = %d, want 3", c)
				}
			}
		}
	}
	if diff := cmp.Diff(map[string]float64{"pax8 2xx": 2, "pax8 5xx": 1}, got); diff != "" {
		t.Errorf("grantd_proxy_requests_total (-want +got):\n%s", diff)
	}
	if histograms != 1 {
		t.Errorf("latency histograms = %d, want 1 (provider pax8)", histograms)
	}
}
