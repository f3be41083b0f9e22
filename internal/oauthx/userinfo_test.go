package oauthx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestFetchUserinfo covers OIDC-17: a userinfo sub that differs from the
// id_token's is refused.
func TestFetchUserinfo(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		contentType   string
		body          string
		wantSub       string
		wantErr       string
		wantTransient bool
	}{
		{name: "matching sub", status: 200, contentType: "application/json", body: `{"sub":"user-1","email":"u@example.com"}`, wantSub: "user-1"},
		{name: "OIDC-17 other sub", status: 200, contentType: "application/json", body: `{"sub":"user-2"}`, wantSub: "user-1", wantErr: `sub "user-2" does not match`},
		{name: "OIDC-17 sub missing", status: 200, contentType: "application/json", body: `{"email":"u@example.com"}`, wantSub: "user-1", wantErr: `does not match`},
		{name: "OIDC-17 nothing to compare", status: 200, contentType: "application/json", body: `{"sub":""}`, wantSub: "", wantErr: "no subject"},
		{name: "signed answer", status: 200, contentType: "application/jwt", body: `x.y.z`, wantSub: "user-1", wantErr: "answered application/jwt"},
		{name: "401", status: 401, contentType: "application/json", body: `{"error":"invalid_token"}`, wantSub: "user-1", wantErr: "userinfo endpoint answered 401"},
		{name: "502", status: 502, contentType: "text/html", body: `<html>`, wantSub: "user-1", wantErr: "answered 502", wantTransient: true},
		{name: "not an object", status: 200, contentType: "application/json", body: `["sub"]`, wantSub: "user-1", wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotAuth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAuth = r.Header.Get("Authorization")
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			got, err := FetchUserinfo(t.Context(), srv.Client(), srv.URL+"/userinfo", canaryAT, tt.wantSub)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FetchUserinfo error = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), canaryAT) {
					t.Errorf("SEC-61: error %q reveals the access token", err)
				}
				if g := IsTransient(err); g != tt.wantTransient {
					t.Errorf("IsTransient(%q) = %v, want %v", err, g, tt.wantTransient)
				}
				return
			}
			if err != nil {
				t.Fatalf("FetchUserinfo: %v", err)
			}
			if got["sub"] != tt.wantSub || got["email"] != "u@example.com" {
				t.Errorf("FetchUserinfo = %v, want sub %s and the email", got, tt.wantSub)
			}
			if gotAuth != "Bearer "+canaryAT {
				t.Errorf("server got Authorization %q, want the bearer token (SEC-42)", gotAuth)
			}
		})
	}
}

// TestFetchUserinfoNoRedirect keeps the access token from following a
// redirect to another host (SEC-41).
func TestFetchUserinfoNoRedirect(t *testing.T) {
	var leaked atomic.Bool
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") != "")
	}))
	t.Cleanup(evil.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	if _, err := FetchUserinfo(t.Context(), srv.Client(), srv.URL, canaryAT, "user-1"); err == nil {
		t.Error("FetchUserinfo followed a redirect and succeeded")
	}
	if leaked.Load() {
		t.Error("SEC-41: the access token reached the redirect target")
	}
}
