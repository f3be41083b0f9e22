package sandbox_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/sandbox"
)

// postGrants posts a bulk-grants request and decodes the JSON array answer.
func postGrants(t *testing.T, e *env, body string) (int, []sandbox.MintedGrant) {
	t.Helper()
	status, b := send(t, "POST", controlURL(e)+"/grants", body)
	if status != http.StatusOK {
		t.Logf("POST grants %s = %d %s", body, status, b)
		return status, nil
	}
	var out []sandbox.MintedGrant
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode grants %q: %v", b, err)
	}
	return status, out
}

func controlURL(e *env) string { return strings.TrimSuffix(e.ep.Issuer, "/pax8/") + "/_sandbox" }

// TestBulkGrantsRefresh mints grants over the control API and refreshes
// each with x/oauth2: they are families like consent's, rotating and with
// reuse detection.
func TestBulkGrantsRefresh(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	status, grants := postGrants(t, e, `{"client_id":"grantd-test","count":3,"subject_prefix":"auth0|lt-"}`)
	if status != http.StatusOK || len(grants) != 3 {
		t.Fatalf("POST grants = %d with %d grants, want 200 with 3", status, len(grants))
	}
	for i, g := range grants {
		if want := "auth0|lt-" + string(rune('0'+i)); g.Subject != want {
			t.Errorf("grant %d subject = %q, want %q", i, g.Subject, want)
		}
		if g.AccessToken != "" {
			t.Errorf("grant %d has an access token without access_token:true", i)
		}
		tok, err := e.refresh(g.RefreshToken)
		if err != nil {
			t.Fatalf("refresh minted grant %d: %v", i, err)
		}
		if tok.RefreshToken == "" || tok.RefreshToken == g.RefreshToken {
			t.Errorf("grant %d: refresh did not rotate (%q)", i, tok.RefreshToken)
		}
		_, claims := jwtParts(t, tok.AccessToken)
		if claims["sub"] != g.Subject || claims["aud"] == nil {
			t.Errorf("grant %d access token claims = %v, want sub %q", i, claims, g.Subject)
		}
		if _, claims := jwtParts(t, idToken(t, tok)); claims["sub"] != g.Subject {
			t.Errorf("grant %d id_token sub = %v, want %q", i, claims["sub"], g.Subject)
		}
	}
	// RT-: presenting the consumed minted token again is reuse.
	if _, err := e.refresh(grants[0].RefreshToken); err == nil {
		t.Error("reusing a rotated minted refresh token succeeded")
	}
	if got := e.s.Stats().Providers[sandbox.Pax8].RefreshReuseDetected; got != 1 {
		t.Errorf("refresh_reuse_detected = %d, want 1", got)
	}

	t.Run("access_token", func(t *testing.T) {
		_, grants := postGrants(t, e, `{"client_id":"grantd-test","count":2,"access_token":true}`)
		if len(grants) != 2 {
			t.Fatalf("got %d grants, want 2", len(grants))
		}
		for _, g := range grants {
			if g.ExpiresIn != 86400 || g.IDToken == "" {
				t.Errorf("grant %+v: want expires_in 86400 and an id_token", g)
			}
			status, body := bearerGet(t, e.ep.UserinfoURL, g.AccessToken)
			if status != http.StatusOK || body["sub"] != g.Subject {
				t.Errorf("userinfo with minted access token = %d %v, want 200 sub %q", status, body, g.Subject)
			}
		}
		if !strings.HasPrefix(grants[0].Subject, "auth0|load-") {
			t.Errorf("default subject = %q, want prefix auth0|load-", grants[0].Subject)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, body := range []string{
			`{"client_id":"grantd-test","count":0}`,
			`{"client_id":"grantd-test","count":200001}`,
			`{"client_id":"nobody","count":1}`,
			`{"client_id":"grantd-test","count":1,"scopes":["openid","Manage:Pax8Data"]}`,
			`{"client_id":"grantd-test","count":1,"scopes":["offline_access","admin"]}`,
			`{"client_id":"grantd-test","count":1,"audience":"https://evil.example"}`,
			`{"provider":"daxko","client_id":"grantd-test","count":1}`,
			`{"client_id":"grantd-test","count":1,"extra":true}`,
		} {
			if status, _ := postGrants(t, e, body); status != http.StatusBadRequest {
				t.Errorf("POST grants %s = %d, want 400", body, status)
			}
		}
	})
}

// TestBulkGrantsNDJSON mints 100,000 grants as NDJSON and refreshes the
// first and the last.
func TestBulkGrantsNDJSON(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	const n = 100_000
	req, err := http.NewRequestWithContext(t.Context(), "POST", controlURL(e)+"/grants?format=ndjson",
		strings.NewReader(`{"client_id":"grantd-test","count":100000,"scopes":["Manage:Pax8Data","offline_access"]}`))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "application/x-ndjson" {
		t.Fatalf("POST grants ndjson = %d %s", resp.StatusCode, ct)
	}
	seen := make(map[string]bool, n)
	var first, last sandbox.MintedGrant
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var g sandbox.MintedGrant
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatalf("line %d: %v", len(seen), err)
		}
		if seen[g.RefreshToken] {
			t.Fatalf("refresh token repeated at line %d", len(seen))
		}
		seen[g.RefreshToken] = true
		if len(seen) == 1 {
			first = g
		}
		last = g
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("minted %d grants in %v", len(seen), time.Since(start))
	if len(seen) != n {
		t.Fatalf("got %d grants, want %d", len(seen), n)
	}
	if last.Subject != "auth0|load-99999" {
		t.Errorf("last subject = %q", last.Subject)
	}
	for _, g := range []sandbox.MintedGrant{first, last} {
		tok, err := e.refresh(g.RefreshToken)
		if err != nil {
			t.Fatalf("refresh %s: %v", g.Subject, err)
		}
		if _, claims := jwtParts(t, tok.AccessToken); claims["sub"] != g.Subject || claims["scope"] != "Manage:Pax8Data offline_access" {
			t.Errorf("refreshed claims = %v", claims)
		}
	}
}
