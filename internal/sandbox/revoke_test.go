package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/sandbox"
)

// postRevoke posts a form-encoded revocation request, with the client in
// HTTP Basic when basic is true and in the body otherwise. x/oauth2 has no
// revocation helper, so this is a plain http.Post.
func postRevoke(t *testing.T, target string, form url.Values, basic bool, id, secret string) (int, map[string]any) {
	t.Helper()
	if !basic {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	status, _, body := do(t, req)
	return status, body
}

// TestRevokeRefreshTokenRevokesFamily: revoking any refresh token of a
// grant, by Basic or body authentication, kills the whole family, as Auth0
// does (RFC 7009 §2.1).
func TestRevokeRefreshTokenRevokesFamily(t *testing.T) {
	for _, basic := range []bool{false, true} {
		e := newEnv(t, sandbox.Options{})
		tok, _ := e.connect()
		next, err := e.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		// The consumed token names the family as well as the live one.
		status, _ := postRevoke(t, e.ep.RevocationURL, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, basic, clientID, clientSecret)
		if status != http.StatusOK {
			t.Fatalf("basic=%v: revoke = %d, want 200", basic, status)
		}
		_, err = e.refresh(next.RefreshToken)
		wantRefreshRefused(t, err, "refresh after revocation")
		st := e.s.Stats().Providers[sandbox.Pax8]
		if st.Revocations != 1 || st.FamiliesRevoked != 1 || st.RefreshReuseDetected != 0 {
			t.Errorf("basic=%v: revocations=%d families_revoked=%d reuse=%d, want 1, 1, 0", basic, st.Revocations, st.FamiliesRevoked, st.RefreshReuseDetected)
		}
	}
}

// TestRevokeJSON: Auth0 accepts a JSON body too.
func TestRevokeJSON(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok, _ := e.connect()
	status, _, _ := postJSON(t, e.ep.RevocationURL, map[string]string{"token": tok.RefreshToken, "client_id": clientID, "client_secret": clientSecret})
	if status != http.StatusOK {
		t.Fatalf("revoke = %d, want 200", status)
	}
	_, err := e.refresh(tok.RefreshToken)
	wantRefreshRefused(t, err, "refresh after revocation")
}

// TestRevokeRefusals: an unknown token is 200 and revokes nothing (RFC 7009
// §2.2); a wrong client is Auth0's 401 access_denied; a secret in the URL is
// refused (SEC-38); a token of another client is left alone.
func TestRevokeRefusals(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.s.RegisterClient(sandbox.Pax8, sandbox.Client{ID: "other", Secret: "other-secret", RedirectURIs: []string{redirectURI}})
	tok, _ := e.connect()
	rt := url.Values{"token": {tok.RefreshToken}}

	if status, _ := postRevoke(t, e.ep.RevocationURL, url.Values{"token": {"v1.unknown"}}, false, clientID, clientSecret); status != http.StatusOK {
		t.Errorf("unknown token: revoke = %d, want 200", status)
	}
	if status, body := postRevoke(t, e.ep.RevocationURL, rt, true, clientID, "wrong"); status != http.StatusUnauthorized || body["error"] != "access_denied" {
		t.Errorf("wrong secret: revoke = %d %v, want 401 access_denied", status, body)
	}
	if status, body := postRevoke(t, e.ep.RevocationURL+"?client_secret="+clientSecret, url.Values{"token": {tok.RefreshToken}}, false, clientID, clientSecret); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("SEC-38 secret in query: revoke = %d %v, want 400 invalid_request", status, body)
	}
	if status, _ := postRevoke(t, e.ep.RevocationURL, url.Values{"token": {tok.RefreshToken}}, false, "other", "other-secret"); status != http.StatusOK {
		t.Errorf("another client's token: revoke = %d, want 200", status)
	}
	if status, body := postRevoke(t, e.ep.RevocationURL, url.Values{}, false, clientID, clientSecret); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("no token: revoke = %d %v, want 400 invalid_request", status, body)
	}
	if _, err := e.refresh(tok.RefreshToken); err != nil {
		t.Errorf("refresh after refused revocations = %v, want the grant alive", err)
	}
	st := e.s.Stats().Providers[sandbox.Pax8]
	if st.Revocations != 2 || st.FamiliesRevoked != 0 {
		t.Errorf("revocations=%d families_revoked=%d, want 2 (unknown, other client) and 0", st.Revocations, st.FamiliesRevoked)
	}
}

// TestRevokeFaultAndDiscovery: a server_error fault on the revoke endpoint
// answers 500 and revokes nothing; discovery advertises the endpoint.
func TestRevokeFaultAndDiscovery(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok, _ := e.connect()
	if err := e.s.AddFault(sandbox.Fault{Endpoint: "revoke", Kind: "server_error"}); err != nil {
		t.Fatal(err)
	}
	if status, body := postRevoke(t, e.ep.RevocationURL, url.Values{"token": {tok.RefreshToken}}, false, clientID, clientSecret); status != http.StatusInternalServerError || body["error"] != "server_error" {
		t.Errorf("faulted revoke = %d %v, want 500 server_error", status, body)
	}
	if _, err := e.refresh(tok.RefreshToken); err != nil {
		t.Errorf("refresh after a faulted revocation = %v, want the grant alive", err)
	}
	if got := e.s.Stats().Providers[sandbox.Pax8].Revocations; got != 0 {
		t.Errorf("revocations = %d, want 0", got)
	}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.ep.DiscoveryURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, d := do(t, req)
	if d["revocation_endpoint"] != e.ep.RevocationURL || e.ep.RevocationURL == "" {
		t.Errorf("discovery revocation_endpoint = %v, want %q", d["revocation_endpoint"], e.ep.RevocationURL)
	}
	if got := e.s.Endpoints(sandbox.Paxful).RevocationURL; got != "" {
		t.Errorf("paxful RevocationURL = %q, want none (Paxful documents none)", got)
	}
}
