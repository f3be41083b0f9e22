package pax8

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenServer is a token endpoint that follows Pax8's documentation: JSON
// bodies only (415 for a form), 401 with Auth0's body for wrong
// credentials, 24 h tokens.
type tokenServer struct {
	*httptest.Server
	requests atomic.Int64
	delay    time.Duration
	refuse   bool
	mu       sync.Mutex
	bodies   []map[string]string
}

func newTokenServer(t *testing.T) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.requests.Add(1)
		time.Sleep(ts.delay)
		w.Header().Set("Content-Type", "application/json")
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			io.WriteString(w, `{"error":"unsupported_media_type","error_description":"Content-Type must be application/json"}`)
			return
		}
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		ts.mu.Lock()
		ts.bodies = append(ts.bodies, body)
		ts.mu.Unlock()
		if ts.refuse || body["client_secret"] != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"access_denied","error_description":"Unauthorized"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":86400,"token_type":"Bearer"}`, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestCredentialsClientSendsJSON(t *testing.T) {
	tok := newTokenServer(t)
	api := newEchoServer(t)
	api.reply(http.StatusOK, `{"content":[],"page":{"size":10,"totalElements":0,"totalPages":0,"number":0}}`)
	cred := Credentials{ClientID: "id1", ClientSecret: "s3cret", TokenURL: tok.URL}
	c := NewClient(cred.Client(nil), WithBaseURL(api.URL+"/v1"))
	for range 3 {
		if _, err := c.Companies.List(t.Context(), nil); err != nil {
			t.Fatalf("List: %v", err)
		}
	}
	if n := tok.requests.Load(); n != 1 {
		t.Errorf("token requests = %d, want 1 (cached)", n)
	}
	want := []map[string]string{{"client_id": "id1", "client_secret": "s3cret", "audience": DefaultAudience, "grant_type": "client_credentials"}}
	if diff := cmp.Diff(want, tok.bodies); diff != "" {
		t.Errorf("token request bodies (-want +got):\n%s", diff)
	}
	for _, r := range api.requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer tok-1" {
			t.Errorf("Authorization = %q, want Bearer tok-1", got)
		}
	}

	// The x/oauth2 set-up the package used to document sends a form, which
	// a documented token endpoint refuses.
	cc := clientcredentials.Config{ClientID: "id1", ClientSecret: "s3cret", TokenURL: tok.URL}
	_, err := cc.Token(t.Context())
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.Response.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("clientcredentials against a JSON-only endpoint: err = %v, want a 415", err)
	}
}

// TestTokenRefusedNotRetried: a token endpoint that refuses the credentials
// costs exactly one token request per call, and says so.
func TestTokenRefusedNotRetried(t *testing.T) {
	tok := newTokenServer(t)
	api := newEchoServer(t)
	cred := Credentials{ClientID: "id1", ClientSecret: "wrong-secret-value", TokenURL: tok.URL}
	c := NewClient(cred.Client(nil), WithBaseURL(api.URL+"/v1"), WithRetryBackoff(time.Millisecond, time.Millisecond))
	for i := 1; i <= 2; i++ {
		_, err := c.Companies.List(t.Context(), nil)
		if err == nil {
			t.Fatal("List succeeded with refused credentials")
		}
		if n := tok.requests.Load(); n != int64(i) {
			t.Errorf("after %d List calls: %d token requests, want %d", i, n, i)
		}
		te, ok := errors.AsType[*TokenError](err)
		if !ok || te.Status != http.StatusUnauthorized || !errors.Is(err, ErrUnauthorized) {
			t.Errorf("err = %#v, want a *TokenError with status 401 matching ErrUnauthorized", err)
		}
		if msg, want := err.Error(), "pax8: the token endpoint refused the client credentials (401 access_denied: Unauthorized)"; msg != want || strings.Contains(msg, "wrong-secret-value") {
			t.Errorf("err = %q, want %q, without the secret", msg, want)
		}
	}
	if n := len(api.requests()); n != 0 {
		t.Errorf("API requests = %d, want 0", n)
	}

	// The same holds for an x/oauth2 transport: one try (x/oauth2 probes
	// two auth styles on it), not one per retry.
	cc := clientcredentials.Config{ClientID: "id1", ClientSecret: "wrong", TokenURL: tok.URL}
	c = NewClient(cc.Client(t.Context()), WithBaseURL(api.URL+"/v1"), WithRetryBackoff(time.Millisecond, time.Millisecond))
	before := tok.requests.Load()
	if _, err := c.Companies.List(t.Context(), nil); err == nil {
		t.Fatal("List succeeded")
	}
	if n := tok.requests.Load() - before; n > 2 {
		t.Errorf("x/oauth2 token requests for one List = %d, want at most 2", n)
	}
}

func TestTokenSourceSingleFlightAndExpiry(t *testing.T) {
	tok := newTokenServer(t)
	tok.delay = 50 * time.Millisecond
	ts := Credentials{ClientID: "id1", ClientSecret: "s3cret", TokenURL: tok.URL}.TokenSource(nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	ts.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := ts.TokenContext(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := tok.requests.Load(); n != 1 {
		t.Errorf("20 concurrent callers made %d token requests, want 1", n)
	}
	mu.Lock()
	now = now.Add(24*time.Hour - 30*time.Second) // within a minute of expiry
	mu.Unlock()
	got, err := ts.Token()
	if err != nil || got.AccessToken != "tok-2" || tok.requests.Load() != 2 {
		t.Errorf("near expiry: token %v, %v after %d requests; want a fresh tok-2", got, err, tok.requests.Load())
	}

	// A waiter whose context ends stops waiting.
	tok.delay = time.Second
	mu.Lock()
	now = now.Add(48 * time.Hour)
	mu.Unlock()
	go ts.TokenContext(context.Background())
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := ts.TokenContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter with an expired context: err = %v", err)
	}
}

func TestWithResponse(t *testing.T) {
	api := newEchoServer(t)
	api.header = http.Header{"X-Request-Id": {"req-42"}, "X-Ratelimit-Limit": {"1000"}, "X-Ratelimit-Remaining": {"998"}, "X-Ratelimit-Reset": {"30"}}
	api.reply(http.StatusOK, `{"id":"c1","name":"Acme"}`)
	c := NewClient(api.Client(), WithBaseURL(api.URL+"/v1"))
	var resp Response
	before := time.Now()
	if _, err := c.Companies.Get(WithResponse(t.Context(), &resp), "c1"); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.RequestID != "req-42" || resp.Header.Get("X-Request-Id") != "req-42" {
		t.Errorf("Response = %+v", resp)
	}
	if rl := resp.RateLimit; !rl.Known || rl.Limit != 1000 || rl.Remaining != 998 || rl.Reset.Before(before.Add(29*time.Second)) {
		t.Errorf("RateLimit = %+v", rl)
	}

	api.reply(http.StatusNotFound, `{"type":"NOT_FOUND","message":"Not Found","instance":"/public/v1/companies/c2","status":404}`)
	_, err := c.Companies.Get(t.Context(), "c2")
	e, ok := errors.AsType[*Error](err)
	if !ok || e.RequestID != "req-42" || e.Instance != "/public/v1/companies/c2" {
		t.Errorf("err = %#v, want RequestID req-42 and Pax8's instance", err)
	}
}

func TestTokenErrorMessages(t *testing.T) {
	tests := []struct {
		err  *TokenError
		want string
	}{
		{&TokenError{Status: 403, Code: "access_denied", Description: "Service not found: api://nope"},
			"pax8: the token endpoint refused the client credentials (403 access_denied: Service not found: api://nope)"},
		{&TokenError{Status: 503}, "pax8: the token endpoint answered 503 (Service Unavailable)"},
		{&TokenError{Err: errors.New("dial tcp: connection refused")}, "pax8: no access token (dial tcp: connection refused)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
