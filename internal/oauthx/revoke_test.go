package oauthx

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/provider"
)

// TestRevokeDialects checks what a revocation endpoint receives in each
// encoding and client authentication (RFC 7009 §2.1); the token and the
// secret never go into the URL (SEC-38).
func TestRevokeDialects(t *testing.T) {
	srv, got := recordingServer(t)
	const id, secret, rt = "client:1", "s3cr&t/+=", "rt-canary-1"
	revoke := map[string]string{"token": rt, "token_type_hint": "refresh_token"}
	withCreds := map[string]string{"token": rt, "token_type_hint": "refresh_token", "client_id": id, "client_secret": secret}
	for _, tc := range []struct {
		name string
		req  RevokeRequest
		want received
	}{
		{
			name: "form body",
			req:  RevokeRequest{Encoding: provider.Form, ClientAuth: provider.ClientAuthBody, ClientID: id, ClientSecret: secret},
			want: received{Method: "POST", ContentType: "application/x-www-form-urlencoded", Accept: "application/json", Params: withCreds},
		},
		{
			name: "json basic",
			req:  RevokeRequest{Encoding: provider.JSON, ClientAuth: provider.ClientAuthBasic, ClientID: id, ClientSecret: secret},
			want: received{Method: "POST", ContentType: "application/json", Accept: "application/json", Authorization: basic(id, secret), Params: revoke},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*got = nil
			tc.req.RevocationURL = srv.URL + "/oauth/revoke"
			tc.req.Token, tc.req.TokenTypeHint = rt, "refresh_token"
			if err := Revoke(t.Context(), srv.Client(), tc.req); err != nil {
				t.Fatalf("Revoke = %v, want nil", err)
			}
			if len(*got) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(*got))
			}
			if diff := cmp.Diff(tc.want, (*got)[0]); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRevokeAnswers classifies the answers of RFC 7009 §2.2: 200 (with any
// body, or none) is success; errors carry the RFC fields; 503, 429 and 5xx
// are transient; nothing echoes the token or the secret.
func TestRevokeAnswers(t *testing.T) {
	const rt, secret = "rt-canary-2", "secret-canary-2"
	for _, tc := range []struct {
		name          string
		status        int
		contentType   string
		body          string
		wantErr       bool
		wantCode      string
		wantTransient bool
	}{
		{name: "200 empty", status: 200},
		{name: "200 json", status: 200, contentType: "application/json", body: "{}"},
		{name: "unsupported token type", status: 400, contentType: "application/json", body: `{"error":"unsupported_token_type","error_description":"cannot revoke rt-canary-2"}`, wantErr: true, wantCode: "unsupported_token_type"},
		{name: "wrong client", status: 401, contentType: "application/json", body: `{"error":"access_denied","error_description":"Unauthorized"}`, wantErr: true, wantCode: "access_denied"},
		{name: "503", status: 503, contentType: "text/plain", body: "busy", wantErr: true, wantTransient: true},
		{name: "429", status: 429, contentType: "application/json", body: `{"error":"too_many_requests"}`, wantErr: true, wantCode: "too_many_requests", wantTransient: true},
		{name: "500 html", status: 500, contentType: "text/html", body: "<h1>oops secret-canary-2</h1>", wantErr: true, wantTransient: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			err := Revoke(t.Context(), srv.Client(), RevokeRequest{RevocationURL: srv.URL, ClientID: "c", ClientSecret: secret, Token: rt, TokenTypeHint: "refresh_token"})
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("Revoke = %v, want error %v", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			te, ok := errors.AsType[*TokenError](err)
			if !ok {
				t.Fatalf("Revoke = %T %v, want *TokenError", err, err)
			}
			if te.Code != tc.wantCode || te.Status != tc.status {
				t.Errorf("TokenError code %q status %d, want %q %d", te.Code, te.Status, tc.wantCode, tc.status)
			}
			if got := IsTransient(err); got != tc.wantTransient {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, tc.wantTransient)
			}
			var buf bytes.Buffer
			slogText(&buf).Error("revoke", "err", err)
			for _, s := range []string{err.Error(), fmtAll(err), te.Description, buf.String()} {
				if strings.Contains(s, rt) || strings.Contains(s, secret) {
					t.Errorf("SEC-61: error text %q reveals the token or the secret", s)
				}
			}
		})
	}
}

// TestRevokeNetworkErrorsAreTransient: an unreachable endpoint is worth
// trying again later.
func TestRevokeNetworkErrorsAreTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := Revoke(t.Context(), nil, RevokeRequest{RevocationURL: url, ClientID: "c", ClientSecret: "s", Token: "rt"})
	if err == nil || !IsTransient(err) {
		t.Errorf("Revoke to a closed server = %v, want a transient error", err)
	}
}

// TestRevokeRefusesBadRequests: no request without a token, to a non-http
// URL or with credentials in the URL, and no redirect followed (SEC-38).
func TestRevokeRefusesBadRequests(t *testing.T) {
	var hits int
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		req  RevokeRequest
	}{
		{"no token", RevokeRequest{RevocationURL: srv.URL, ClientID: "c", ClientSecret: "s"}},
		{"ftp url", RevokeRequest{RevocationURL: "ftp://127.0.0.1/revoke", Token: "rt"}},
		{"userinfo in url", RevokeRequest{RevocationURL: strings.Replace(srv.URL, "http://", "http://id:pw@", 1), Token: "rt"}},
		{"redirect", RevokeRequest{RevocationURL: srv.URL, ClientID: "c", ClientSecret: "canary-secret-3", Token: "rt"}},
	} {
		if err := Revoke(t.Context(), srv.Client(), tc.req); err == nil {
			t.Errorf("%s: Revoke = nil, want an error", tc.name)
		}
	}
	if hits != 0 {
		t.Errorf("SEC-38: the redirect target got %d requests, want 0", hits)
	}
}

// TestRevokeRequestRedacted: the request's formatted and logged forms never
// show the token or the secret.
func TestRevokeRequestRedacted(t *testing.T) {
	r := RevokeRequest{RevocationURL: "https://h/oauth/revoke", ClientSecret: "canary-secret-4", Token: "canary-rt-4"}
	var buf bytes.Buffer
	slogText(&buf).Info("revoke", "req", r)
	for _, s := range []string{fmtAll(r), buf.String()} {
		if strings.Contains(s, "canary-secret-4") || strings.Contains(s, "canary-rt-4") {
			t.Errorf("SEC-61: %q reveals a secret", s)
		}
	}
	if !strings.Contains(buf.String(), "https://h/oauth/revoke") {
		t.Errorf("log %q lacks the endpoint", buf.String())
	}
}
