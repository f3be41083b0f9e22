package sandboxtest_test

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
)

// TestLogin plays the partner with clients that do and do not follow
// redirects; Login must return the callback without following it.
func TestLogin(t *testing.T) {
	s, ep := sandboxtest.Start(t, sandbox.Options{})
	const cb = "http://127.0.0.1:1/never-reached"
	s.RegisterClient(sandbox.Pax8, sandbox.Client{ID: "c", Secret: "s", RedirectURIs: []string{cb}})
	authURL := ep.AuthorizeURL + "?" + url.Values{
		"response_type": {"code"}, "client_id": {"c"}, "redirect_uri": {cb}, "state": {"st-1"},
		"audience": {"https://api.pax8.com"}, "scope": {"Manage:Pax8Data offline_access"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
	}.Encode()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*http.Client{
		"jar and ErrUseLastResponse": {Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		"following redirects":        {},
	}
	accts := sandbox.Accounts()
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			loc, err := sandboxtest.Login(t.Context(), c, authURL, accts[0].Username, accts[0].Password, true)
			if err != nil {
				t.Fatalf("Login = %v", err)
			}
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != cb || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st-1" {
				t.Errorf("Login = %s, want %s with code and state", loc, cb)
			}
			if c.CheckRedirect != nil && c.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
				t.Error("Login changed the caller's client")
			}
		})
	}
	if _, err := sandboxtest.Login(t.Context(), &http.Client{}, authURL, accts[0].Username, "wrong", true); !errors.Is(err, sandboxtest.ErrRefused) {
		t.Errorf("Login with a wrong password = %v, want ErrRefused", err)
	}
}
