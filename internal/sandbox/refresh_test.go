package sandbox_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
)

// wantRefreshRefused asserts Auth0's 403 invalid_grant for refresh tokens.
func wantRefreshRefused(t *testing.T, err error, what string) {
	t.Helper()
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	if !ok || re.Response.StatusCode != http.StatusForbidden || re.ErrorCode != "invalid_grant" || re.ErrorDescription != "Unknown or invalid refresh token." {
		t.Errorf("%s = %v, want 403 invalid_grant \"Unknown or invalid refresh token.\"", what, err)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok, _ := e.connect()
	_, firstID := jwtParts(t, idToken(t, tok))
	rt := tok.RefreshToken
	for i := range 3 {
		next, err := e.refresh(rt)
		if err != nil {
			t.Fatalf("refresh %d = %v", i, err)
		}
		if next.RefreshToken == rt || next.RefreshToken == "" {
			t.Fatalf("refresh %d returned refresh token %q, want a new one", i, next.RefreshToken)
		}
		rt = next.RefreshToken
		// OIDC Core §12.2: same iss, sub, aud, azp; no nonce.
		_, c := jwtParts(t, idToken(t, next))
		for _, k := range []string{"iss", "sub", "aud", "auth_time"} {
			if !cmp.Equal(c[k], firstID[k]) {
				t.Errorf("refresh id_token %s = %v, want %v", k, c[k], firstID[k])
			}
		}
		if c["nonce"] != nil {
			t.Errorf("refresh id_token nonce = %v, want none", c["nonce"])
		}
	}
	if diff := cmp.Diff(map[string]int{"ok": 3}, tokenCounts(e.s, "refresh_token")); diff != "" {
		t.Errorf("refresh stats (-want +got):\n%s", diff)
	}
}

// TestRefreshReuseRevokesFamily: with leeway 0, presenting a consumed
// token revokes the family; the newest token dies with it (RFC 9700
// §4.14.2; RT-03 figure "reuse_detected").
func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok, _ := e.connect()
	next, err := e.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(tok.RefreshToken)
	wantRefreshRefused(t, err, "reuse of the consumed token")
	_, err = e.refresh(next.RefreshToken)
	wantRefreshRefused(t, err, "newest token after reuse")
	st := e.s.Stats().Providers[sandbox.Pax8]
	if st.RefreshReuseDetected != 1 || st.FamiliesRevoked != 1 {
		t.Errorf("reuse_detected=%d families_revoked=%d, want 1 and 1", st.RefreshReuseDetected, st.FamiliesRevoked)
	}
	if diff := cmp.Diff(map[string]int{"ok": 1, "invalid_grant": 2}, tokenCounts(e.s, "refresh_token")); diff != "" {
		t.Errorf("refresh stats (-want +got):\n%s", diff)
	}
}

// TestRefreshReuseInterval: inside the reuse interval only the immediately
// previous token is forgiven; the second-to-last still revokes.
func TestRefreshReuseInterval(t *testing.T) {
	st := sandbox.DefaultSettings()
	st.ReuseInterval = 30 * time.Second
	e := newEnv(t, sandbox.Options{Pax8: st})

	t.Run("previous token forgiven", func(t *testing.T) {
		tok, _ := e.connect()
		rt1, err := e.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		e.s.Advance(10 * time.Second)
		rt2, err := e.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatalf("reuse inside the interval = %v, want success", err)
		}
		for _, rt := range []string{rt1.RefreshToken, rt2.RefreshToken} {
			if _, err := e.refresh(rt); err != nil {
				t.Errorf("refresh with a token issued in the interval = %v", err)
			}
		}
		if got := e.s.Stats().Providers[sandbox.Pax8].RefreshReuseDetected; got != 0 {
			t.Errorf("reuse_detected = %d, want 0", got)
		}
	})
	t.Run("outside the interval revokes", func(t *testing.T) {
		tok, _ := e.connect()
		next, err := e.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		e.s.Advance(31 * time.Second)
		_, err = e.refresh(tok.RefreshToken)
		wantRefreshRefused(t, err, "reuse after the interval")
		_, err = e.refresh(next.RefreshToken)
		wantRefreshRefused(t, err, "newest token after reuse")
	})
	t.Run("second-to-last revokes", func(t *testing.T) {
		tok, _ := e.connect()
		rt1, err := e.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		rt2, err := e.refresh(rt1.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.refresh(tok.RefreshToken)
		wantRefreshRefused(t, err, "second-to-last token inside the interval")
		_, err = e.refresh(rt2.RefreshToken)
		wantRefreshRefused(t, err, "newest token after reuse")
	})
}

// TestRefreshWithoutRotation: the token stays valid and responses omit
// refresh_token, which x/oauth2 answers by keeping the old one (RT-07).
func TestRefreshWithoutRotation(t *testing.T) {
	st := sandbox.DefaultSettings()
	st.Rotation = false
	e := newEnv(t, sandbox.Options{Pax8: st})
	tok, _ := e.connect()
	for i := range 3 {
		status, _, body := postJSON(t, e.ep.TokenURL, map[string]string{
			"grant_type": "refresh_token", "refresh_token": tok.RefreshToken, "client_id": clientID, "client_secret": clientSecret,
		})
		if status != http.StatusOK || body["refresh_token"] != nil || body["access_token"] == nil {
			t.Fatalf("refresh %d = %d %v, want 200 without refresh_token", i, status, body)
		}
	}
	next, err := e.refresh(tok.RefreshToken)
	if err != nil || next.RefreshToken != tok.RefreshToken {
		t.Errorf("x/oauth2 refresh = %v, refresh token kept %t; want success, kept", err, next != nil && next.RefreshToken == tok.RefreshToken)
	}
}

// TestRefreshLifetimes: the idle lifetime resets on each use, the absolute
// lifetime does not (seeds/000 "Token Lifetimes").
func TestRefreshLifetimes(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	t.Run("idle", func(t *testing.T) {
		tok, _ := e.connect()
		e.s.Advance(720*time.Hour + time.Second)
		_, err := e.refresh(tok.RefreshToken)
		wantRefreshRefused(t, err, "refresh after 30 idle days")
	})
	t.Run("idle resets, absolute holds", func(t *testing.T) {
		st := sandbox.DefaultSettings()
		st.RefreshAbsolute = 1000 * time.Hour
		e.s.Configure(sandbox.Pax8, st)
		tok, _ := e.connect()
		rt := tok.RefreshToken
		e.s.Advance(700 * time.Hour)
		mid, err := e.refresh(rt)
		if err != nil {
			t.Fatalf("refresh after 700h = %v, want success", err)
		}
		rt = mid.RefreshToken
		e.s.Advance(299 * time.Hour) // 999h after the grant, 299h idle
		next, err := e.refresh(rt)
		if err != nil {
			t.Fatalf("refresh at 999h = %v, want success", err)
		}
		e.s.Advance(2 * time.Hour) // 1001h: past the absolute lifetime
		_, err = e.refresh(next.RefreshToken)
		wantRefreshRefused(t, err, "refresh past the absolute lifetime")
	})
}

// TestConcurrentRefreshStats: 100 concurrent refreshes with rotation off
// are all served and counted exactly (RT-01 relies on this counter).
func TestConcurrentRefreshStats(t *testing.T) {
	st := sandbox.DefaultSettings()
	st.Rotation = false
	e := newEnv(t, sandbox.Options{Pax8: st})
	tok, _ := e.connect()
	e.s.ResetStats()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			if _, err := e.refresh(tok.RefreshToken); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent refresh = %v", err)
	}
	if diff := cmp.Diff(map[string]int{"ok": 100}, tokenCounts(e.s, "refresh_token")); diff != "" {
		t.Errorf("refresh stats (-want +got):\n%s", diff)
	}
}

// TestConcurrentRotatingRefresh: with rotation and leeway 0, exactly one of
// many concurrent uses of one token wins; the rest are reuse (RT-01's
// failure mode, which the broker must avoid).
func TestConcurrentRotatingRefresh(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok, _ := e.connect()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { e.refresh(tok.RefreshToken) })
	}
	wg.Wait()
	got := tokenCounts(e.s, "refresh_token")
	if diff := cmp.Diff(map[string]int{"ok": 1, "invalid_grant": 19}, got); diff != "" {
		t.Errorf("refresh stats (-want +got):\n%s", diff)
	}
	if st := e.s.Stats().Providers[sandbox.Pax8]; st.FamiliesRevoked != 1 || st.RefreshReuseDetected < 1 {
		t.Errorf("families_revoked=%d reuse_detected=%d, want 1 and ≥1", st.FamiliesRevoked, st.RefreshReuseDetected)
	}
}
