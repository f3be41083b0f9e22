package grantd

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestClient(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, "gdk_secret")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewClientRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ base, key string }{
		{"", "k"},
		{"ftp://x", "k"},
		{"http://", "k"},
		{"http://u:p@x", "k"},
		{"http://x?q=1", "k"},
		{"http://x", ""},
		{"http://x", "k\r\nX: y"},
	} {
		if _, err := NewClient(tc.base, tc.key); err == nil {
			t.Errorf("NewClient(%q, %q) = nil error, want one", tc.base, tc.key)
		} else if tc.key != "" && strings.Contains(err.Error(), tc.key) {
			t.Errorf("NewClient error %q shows the key", err)
		}
	}
}

// TestErrorCodes checks that the API's error body becomes a typed *Error
// with its code, status, field and Retry-After, and that the helpers and
// errors.Is branch on it.
func TestErrorCodes(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/connections/reauth/token":
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"error":{"code":"needs_reauth","message":"the connection must be authorized again"}}`)
		case "/v1/connections/soon/refresh":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"code":"refresh_throttled","message":"too soon"}}`)
		default:
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `<html>bad gateway</html>`)
		}
	}))
	ctx := t.Context()

	_, err := c.Token(ctx, "reauth")
	if !IsNeedsReauth(err) || !errors.Is(err, ErrNeedsReauth) || errors.Is(err, ErrRevoked) {
		t.Errorf("Token(reauth) = %v; IsNeedsReauth %v, Is(ErrNeedsReauth) %v", err, IsNeedsReauth(err), errors.Is(err, ErrNeedsReauth))
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("Token(reauth) error %T is not an *Error", err)
	}
	want := &Error{Status: 409, Code: "needs_reauth", Message: "the connection must be authorized again"}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("Token(reauth) error (-want +got):\n%s", diff)
	}

	_, err = c.Refresh(ctx, "soon", "old-token")
	if !IsRateLimited(err) {
		t.Errorf("Refresh(soon) = %v, want a rate limit", err)
	}
	if e, _ := errors.AsType[*Error](err); e == nil || e.RetryAfter != 7*time.Second {
		t.Errorf("Refresh(soon) RetryAfter = %v, want 7s", e)
	}
	if strings.Contains(err.Error(), "old-token") {
		t.Errorf("Refresh error %q shows the token", err)
	}

	_, err = c.Connection(ctx, "other")
	if e, _ := errors.AsType[*Error](err); e == nil || e.Status != 502 || e.Code != "" {
		t.Errorf("Connection(other) = %#v, want an *Error with status 502 and no code", err)
	}
	if ErrorCode(err) != "" || IsNotFound(err) {
		t.Errorf("ErrorCode(%v) = %q", err, ErrorCode(err))
	}

	if _, err := c.Token(ctx, ""); err == nil {
		t.Error("Token(\"\") = nil error, want one")
	}
}

// TestSecretsNotPrinted: a Token, an IntegrationRequest and a Client print
// no secret with %v, %+v or %#v.
func TestSecretsNotPrinted(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:1", "gdk_secretkey")
	if err != nil {
		t.Fatal(err)
	}
	tok := Token{ConnectionID: "con_1", AccessToken: "at-secret"}
	req := IntegrationRequest{Provider: "pax8", ClientID: "cid", ClientSecret: "cs-secret"}
	for _, v := range []any{tok, &tok, req, c} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			got := fmt.Sprintf(verb, v)
			for _, secret := range []string{"at-secret", "cs-secret", "gdk_secretkey"} {
				if strings.Contains(got, secret) {
					t.Errorf("Sprintf(%q, %T) = %q, shows a secret", verb, v, got)
				}
			}
		}
	}
}

// TestProxyRewritesProviderURLs: a request to the provider's API base goes
// to grantd's proxy for the connection with the API key, the caller's
// Authorization and Cookie dropped; a request to another host is refused
// before anything is sent.
func TestProxyRewritesProviderURLs(t *testing.T) {
	var got []string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Cookie"))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/connections/con_1":
			io.WriteString(w, `{"id":"con_1","provider":"pax8","status":"active"}`)
		case "/v1/providers":
			io.WriteString(w, `{"providers":[{"name":"pax8","api_base_url":"https://api.pax8.example/v1"}]}`)
		default:
			io.WriteString(w, `{"content":[]}`)
		}
	}))
	hc := c.Proxy("con_1")
	for _, target := range []string{
		"https://api.pax8.example/v1/companies?page=2",
		"https://API.pax8.example/v1/companies/a%2Fb",
		c.ProxyURL("con_1") + "/orders",
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer vendor-token")
		req.Header.Set("Cookie", "s=1")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		resp.Body.Close()
		if req.Header.Get("Authorization") != "Bearer vendor-token" || req.URL.Host == "" {
			t.Errorf("Proxy changed the caller's request: %v %v", req.URL, req.Header)
		}
	}
	want := []string{
		"GET /v1/connections/con_1? Bearer gdk_secret ",
		"GET /v1/providers? Bearer gdk_secret ",
		"GET /v1/proxy/con_1/companies?page=2 Bearer gdk_secret ",
		"GET /v1/proxy/con_1/companies/a%2Fb? Bearer gdk_secret ",
		"GET /v1/proxy/con_1/orders? Bearer gdk_secret ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	got = nil
	for _, target := range []string{
		"https://evil.example/v1/companies",
		"https://api.pax8.example/v10/companies",
		"http://api.pax8.example/v1/companies",
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("GET %s through the proxy = %s, want an error", target, resp.Status)
		}
	}
	if len(got) != 0 {
		t.Errorf("refused requests reached the server: %q", got)
	}
}
