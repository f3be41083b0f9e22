package pax8

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scriptServer answers the i-th request with script[i] (the last entry
// repeats) and counts requests.
type scriptServer struct {
	*httptest.Server
	n atomic.Int64
}

type step struct {
	status     int
	retryAfter string
	ctype      string
	body       string
}

func newScriptServer(t *testing.T, script ...step) *scriptServer {
	t.Helper()
	s := &scriptServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(s.n.Add(1)) - 1
		st := script[min(i, len(script)-1)]
		if st.retryAfter != "" {
			w.Header().Set("Retry-After", st.retryAfter)
		}
		w.Header().Set("Content-Type", cmpOr(st.ctype, "application/json"))
		w.WriteHeader(st.status)
		io.WriteString(w, strings.ReplaceAll(st.body, "$AUTH", r.Header.Get("Authorization")))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) client(opts ...Option) *Client {
	opts = append([]Option{WithBaseURL(s.URL + "/v1"), WithRetryBackoff(time.Millisecond, 2*time.Millisecond)}, opts...)
	return NewClient(s.Client(), opts...)
}

const notFoundBody = `{"type":"NOT_FOUND","message":"Company Not Found: 3d0617ac","instance":"/public/v1/companies/3d0617ac","status":404,"details":[{"message":"no such id","type":"INVALID_PARAM"}]}`

func TestErrorBodyDecoded(t *testing.T) {
	srv := newScriptServer(t, step{status: 404, body: notFoundBody})
	_, err := srv.client().Companies.Get(t.Context(), "3d0617ac")
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("Get error = %v, want *Error", err)
	}
	want := &Error{Type: "NOT_FOUND", Message: "Company Not Found: 3d0617ac", Instance: "/public/v1/companies/3d0617ac", Status: 404,
		Details: []ErrorDetail{{Type: "INVALID_PARAM", Message: "no such id"}}}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("*Error (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) {
		t.Errorf("errors.Is(err, ErrNotFound) = %v, Is(ErrForbidden) = %v; want true, false", errors.Is(err, ErrNotFound), errors.Is(err, ErrForbidden))
	}
	if got, want := err.Error(), "pax8: GET /companies/3d0617ac: 404 NOT_FOUND: Company Not Found: 3d0617ac; no such id"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if n := srv.n.Load(); n != 1 {
		t.Errorf("requests = %d, want 1 (404 is not retried)", n)
	}
}

func TestErrorFallbacks(t *testing.T) {
	tests := []struct {
		name string
		step step
		want *Error
	}{
		{"html gateway page", step{status: 502, ctype: "text/html", body: "<html><body>Bad gateway $AUTH</body></html>"}, &Error{Status: 502, Message: "Bad Gateway"}},
		{"html without content type", step{status: 503, ctype: "application/octet-stream", body: "<!doctype html><p>down</p>"}, &Error{Status: 503, Message: "Service Unavailable"}},
		{"empty body", step{status: 500}, &Error{Status: 500, Message: "Internal Server Error"}},
		{"oauth style body", step{status: 401, body: `{"error":"access_denied","error_description":"Unauthorized"}`}, &Error{Status: 401, Type: "access_denied", Message: "Unauthorized"}},
		{"retry-after on 503", step{status: 503, retryAfter: "120", body: `{"message":"later"}`}, &Error{Status: 503, Message: "later", RetryAfter: 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.step)
			_, err := srv.client(WithMaxRetries(0)).Orders.Get(t.Context(), "o1")
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("error = %v, want *Error", err)
			}
			if diff := cmp.Diff(tt.want, e); diff != "" {
				t.Errorf("*Error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSuccessBodyNotJSON(t *testing.T) {
	srv := newScriptServer(t, step{status: 200, ctype: "text/html", body: "<html>login</html>"})
	_, err := srv.client().Companies.Get(t.Context(), "c1")
	if err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("error = %v, want a not-JSON error", err)
	}
	srv2 := newScriptServer(t, step{status: 200, body: `{"id": 5`})
	if _, err := srv2.client().Companies.Get(t.Context(), "c1"); err == nil {
		t.Error("truncated JSON decoded without error")
	}
}

// bearer is an http.RoundTripper that authorises requests the way
// oauth2.Transport does.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestErrorsAndLogsRedactToken covers SEC-61: a provider error that echoes
// the bearer token does not carry it into our error or logs.
func TestErrorsAndLogsRedactToken(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ"
	srv := newScriptServer(t,
		step{status: 429, retryAfter: "0", body: `{"message":"slow down, $AUTH"}`},
		step{status: 400, body: `{"type":"BAD_REQUEST","message":"bad header $AUTH","details":[{"message":"token was $AUTH"}]}`})
	var logs bytes.Buffer
	c := NewClient(&http.Client{Transport: bearer{token}}, WithBaseURL(srv.URL+"/v1"),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, err := c.Companies.Get(t.Context(), "c1")
	if err == nil {
		t.Fatal("Get succeeded, want an error")
	}
	e, _ := errors.AsType[*Error](err)
	for what, s := range map[string]string{"error": err.Error(), "detail": e.Details[0].Message, "logs": logs.String()} {
		if strings.Contains(s, token) || strings.Contains(s, "c2lnbmF0dXJlLWNhbmFyeQ") {
			t.Errorf("%s contains the token: %s", what, s)
		}
	}
	if !strings.Contains(err.Error(), "Bearer REDACTED") {
		t.Errorf("error = %q, want the token replaced with REDACTED", err)
	}
	if !strings.Contains(logs.String(), `"attempt":1`) {
		t.Errorf("logs = %s, want a retry entry with snake_case keys", logs.String())
	}
}

func TestRetryPolicy(t *testing.T) {
	ok := step{status: 200, body: `{"id":"x"}`}
	tests := []struct {
		name     string
		script   []step
		call     func(context.Context, *Client) error
		wantReqs int64
		wantErr  int // status of the returned *Error; 0 = success
	}{
		{"GET retried after 429", []step{{status: 429, retryAfter: "0"}, {status: 429}, ok}, getCompany, 3, 0},
		{"POST retried after 429", []step{{status: 429, retryAfter: "0"}, ok}, createOrder, 2, 0},
		{"GET retried after 503", []step{{status: 503}, {status: 500}, ok}, getCompany, 3, 0},
		{"PUT retried after 502", []step{{status: 502}, ok}, updateSub, 2, 0},
		{"DELETE retried after 504", []step{{status: 504}, {status: 204}}, cancelSub, 2, 0},
		{"POST not retried after 503", []step{{status: 503}, ok}, createOrder, 1, 503},
		{"PATCH not retried after 500", []step{{status: 500}, ok}, updateCompany, 1, 500},
		{"501 not retried", []step{{status: 501}, ok}, getCompany, 1, 501},
		{"422 not retried", []step{{status: 422, body: `{"type":"INVALID_PARAM","message":"quantity"}`}, ok}, updateSub, 1, 422},
		{"429 exhausts retries", []step{{status: 429, retryAfter: "0"}}, getCompany, 4, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.script...)
			err := tt.call(t.Context(), srv.client())
			if got := srv.n.Load(); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d", got, tt.wantReqs)
			}
			if tt.wantErr == 0 {
				if err != nil {
					t.Errorf("error = %v, want nil", err)
				}
				return
			}
			if e, ok := errors.AsType[*Error](err); !ok || e.Status != tt.wantErr {
				t.Errorf("error = %v, want *Error with status %d", err, tt.wantErr)
			}
		})
	}
}

func getCompany(ctx context.Context, c *Client) error {
	_, err := c.Companies.Get(ctx, "c1")
	return err
}
func createOrder(ctx context.Context, c *Client) error {
	_, err := c.Orders.Create(ctx, &OrderCreate{CompanyID: "c1", LineItems: []LineItemCreate{{ProductID: "p1", LineItemNumber: 1, Quantity: 1, BillingTerm: BillingMonthly}}}, false)
	return err
}
func updateSub(ctx context.Context, c *Client) error {
	_, err := c.Subscriptions.Update(ctx, "s1", &SubscriptionUpdate{Quantity: new(Number(2))})
	return err
}
func updateCompany(ctx context.Context, c *Client) error {
	_, err := c.Companies.Update(ctx, "c1", &CompanyUpdate{Name: new("x")})
	return err
}
func cancelSub(ctx context.Context, c *Client) error {
	return c.Subscriptions.Cancel(ctx, "s1", time.Time{})
}

func TestRetryAfterHonoured(t *testing.T) {
	srv := newScriptServer(t, step{status: 429, retryAfter: "1"}, step{status: 200, body: `{"id":"c1"}`})
	start := time.Now()
	if _, err := srv.client().Companies.Get(t.Context(), "c1"); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got := time.Since(start); got < time.Second {
		t.Errorf("returned after %v, want >= 1s (Retry-After: 1)", got)
	}
}

func TestRateLimitedErrorCarriesRetryAfter(t *testing.T) {
	srv := newScriptServer(t, step{status: 429, retryAfter: "0.02", body: `{"message":"Too many requests","status":429}`})
	_, err := srv.client(WithMaxRetries(2)).Companies.Get(t.Context(), "c1")
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Status != 429 || e.RetryAfter != 20*time.Millisecond || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("error = %#v, want 429 *Error with RetryAfter 20ms", err)
	}
	if got := srv.n.Load(); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
}

func TestRetryAfterTooLongIsNotAwaited(t *testing.T) {
	srv := newScriptServer(t, step{status: 429, retryAfter: "3600"})
	c := srv.client()
	start := time.Now()
	_, err := c.Companies.Get(t.Context(), "c1")
	if e, ok := errors.AsType[*Error](err); !ok || e.RetryAfter != time.Hour {
		t.Errorf("error = %v, want 429 with RetryAfter 1h", err)
	}
	if time.Since(start) > 2*time.Second || srv.n.Load() != 1 {
		t.Errorf("waited %v over %d requests, want an immediate return", time.Since(start), srv.n.Load())
	}
}

func TestCancelInterruptsBackoff(t *testing.T) {
	srv := newScriptServer(t, step{status: 429, retryAfter: "30"})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := srv.client().Companies.Get(ctx, "c1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if _, ok := errors.AsType[*Error](err); !ok {
		t.Errorf("error = %v, want the last *Error kept too", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v, want promptly after cancel", d)
	}
}

func TestDeadlineShorterThanRetryAfter(t *testing.T) {
	srv := newScriptServer(t, step{status: 429, retryAfter: "20"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := srv.client().Companies.Get(ctx, "c1")
	if !errors.Is(err, ErrRateLimited) || time.Since(start) > 2*time.Second {
		t.Errorf("error = %v after %v, want an immediate 429", err, time.Since(start))
	}
}

func TestCancelDuringSlowResponse(t *testing.T) {
	srv := newPagingServer(t, 10, 10*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	c := NewClient(srv.Client(), WithBaseURL(srv.URL+"/v1"))
	_, err := c.Subscriptions.List(ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("requests = %d, want 1 (no retry after cancellation)", n)
	}
}

func TestNetworkErrorRetriedOnlyWhenIdempotent(t *testing.T) {
	for _, tt := range []struct {
		name     string
		call     func(context.Context, *Client) error
		wantReqs int64
	}{{"GET", getCompany, 2}, {"POST", createOrder, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close() // drop the connection without a response
					return
				}
				io.WriteString(w, `{"id":"x"}`)
			}))
			t.Cleanup(srv.Close)
			hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			err := tt.call(t.Context(), NewClient(hc, WithBaseURL(srv.URL+"/v1"), WithRetryBackoff(time.Millisecond, time.Millisecond)))
			if got := n.Load(); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d (err %v)", got, tt.wantReqs, err)
			}
		})
	}
}

// TestRedirectsNotFollowed covers SEC-41: a redirect to another host must
// not receive the bearer token, so the client follows no redirect at all.
func TestRedirectsNotFollowed(t *testing.T) {
	var evilHits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		io.WriteString(w, `{"id":"stolen"}`)
	}))
	t.Cleanup(evil.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/v1/companies/c1", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: bearer{"canary-token"}}
	_, err := NewClient(hc, WithBaseURL(srv.URL+"/v1")).Companies.Get(t.Context(), "c1")
	if e, ok := errors.AsType[*Error](err); !ok || e.Status != http.StatusFound {
		t.Errorf("error = %v, want *Error with status 302", err)
	}
	if n := evilHits.Load(); n != 0 {
		t.Errorf("redirect target received %d requests, want 0", n)
	}
	if hc.CheckRedirect != nil {
		t.Error("NewClient modified the caller's http.Client")
	}
}
