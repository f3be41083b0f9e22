package refresh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/vault"
)

// RT-08 scaled so that one day of Pax8's lifetimes is one second of the
// shared clock: a 30-day inactivity lifetime becomes 30 s, the one-year
// absolute lifetime 365 s, the sweeper's 5-day idle margin 5 s (so a grant
// idle for 25 s is refreshed), and the 30- and 7-day reauth notices 30 s
// and 7 s.
const (
	rt08Idle     = 30 * time.Second
	rt08Absolute = 365 * time.Second
	rt08Margin   = 5 * time.Second
	// rt08Step is the sweep interval, by which the shared clock moves
	// between sweeps. It must stay under rt08Margin, or a grant could go
	// from "not yet due" to "lapsed" between two sweeps.
	rt08Step  = 3 * time.Second
	rt08Ahead = 4 * time.Second
	rt08Conns = 100
	// rt08Every is how many sweeps apart every connection is checked for
	// usability at the sandbox (15 s, half the idle lifetime). Gaps in
	// between are covered by the refresh history, checked afterwards.
	rt08Every = 5
)

var rt08Notices = []time.Duration{30 * time.Second, 7 * time.Second}

// rt08Env is a sandbox in strict mode (rotation on, reuse interval 0, a
// reused refresh token revokes its family) with the scaled lifetimes, and
// a grantd whose pax8 provider declares the same lifetimes, both on clk.
func rt08Env(t *testing.T, clk *testenv.Clock, accessTTL time.Duration, onEvent func(store.Event)) *testenv.Env {
	t.Helper()
	return testenv.New(t, testenv.Options{
		Sandbox: sandbox.Options{Now: clk.Now, Pax8: sandbox.Settings{
			Rotation:        true,
			AccessTTL:       accessTTL,
			RefreshAbsolute: rt08Absolute,
			RefreshIdle:     rt08Idle,
		}},
		Now:     clk.Now,
		OnEvent: onEvent,
		Broker: func(o *broker.Options) {
			o.ExpiryMargin = rt08Ahead
			o.IdleMargin = rt08Margin
		},
		Provider: func(p *provider.Provider) {
			p.AccessTokenTTL = provider.Duration(accessTTL)
			p.RefreshToken.AbsoluteLifetime = provider.Duration(rt08Absolute)
			p.RefreshToken.IdleLifetime = provider.Duration(rt08Idle)
		},
	})
}

// rt08Loop is the background loop under test. The test calls Sweep once per
// Interval of the shared clock instead of Run: the sandbox is a real
// loopback HTTP server, which a synctest bubble cannot hold.
func rt08Loop(env *testenv.Env) *refresh.Scheduler {
	return &refresh.Scheduler{
		Broker:        env.Broker,
		Logger:        env.Logger,
		Interval:      rt08Step,
		ReauthNotices: rt08Notices,
	}
}

// TestIdleLifetimeRT08 is RT-08 at scale: 100 connections, connected
// through the real sandbox over loopback HTTP into a real SQLite file, see
// no user traffic at all while the sweep loop runs on a virtual clock. The
// sandbox enforces a 30 s inactivity and a 365 s absolute lifetime. Each
// connection must stay active and usable (its current access token is
// accepted by the sandbox's userinfo endpoint after every sweep) until its
// absolute end, with no gap between uses of its refresh token as long as
// the idle lifetime (miss rate 0/100); get exactly one reauth_due notice per
// threshold, within one sweep of the threshold and before the end; and go
// to needs_reauth within one sweep after the end, without sending its
// refresh token again. The sandbox sees no reused refresh token.
//
// "idle-driven" issues access tokens that outlive the grant, so only the
// idle margin makes the sweep refresh; "short-access" issues 10 s access
// tokens, so the sweep also refreshes ahead of every access expiry.
func TestIdleLifetimeRT08(t *testing.T) {
	for _, tc := range []struct {
		name      string
		accessTTL time.Duration
	}{
		{"idle-driven", time.Hour},
		{"short-access", 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() {
				t.Skip("short mode: a soak of hundreds to thousands of refreshes; the full run covers it")
			}
			t.Parallel()
			runRT08(t, tc.accessTTL)
		})
	}
	t.Run("sandbox-enforces-idle", func(t *testing.T) {
		t.Parallel()
		sandboxEnforcesIdle(t)
	})
}

// rt08Conn is one connection under test.
type rt08Conn struct {
	id, subject string
	connected   time.Time
	end         time.Time // the absolute end of its grant
}

func runRT08(t *testing.T, accessTTL time.Duration) {
	ctx := t.Context()
	clk := testenv.NewClock()
	var ev events
	env := rt08Env(t, clk, accessTTL, ev.add)
	if !env.Sandbox.Now().Equal(clk.Now()) {
		t.Fatalf("sandbox clock %v, grantd clock %v: not shared", env.Sandbox.Now(), clk.Now())
	}
	loop := rt08Loop(env)
	hc := &http.Client{Timeout: 10 * time.Second}

	// One connection per tenant (a tenant's second consent through the
	// same integration reauthorizes its connection), alternating the two
	// demo partners. Ten connect per second of the clock, so their ends are
	// staggered over ten seconds.
	conns := make([]rt08Conn, 0, rt08Conns)
	seen := map[string]bool{}
	for len(conns) < rt08Conns {
		for range 10 {
			user := testenv.Partner
			if len(conns)%2 == 1 {
				user = testenv.OtherPartner
			}
			tenantID, _ := env.Tenant(t, fmt.Sprintf("MSP %d", len(conns)))
			now := clk.Now()
			c := env.Connect(t, tenantID, user)
			if seen[c.ID] {
				t.Fatalf("connection %s connected twice", c.ID)
			}
			seen[c.ID] = true
			if !c.RefreshExpiresAt.Equal(now.Add(rt08Absolute)) || !c.RefreshIdleExpiresAt.Equal(now.Add(rt08Idle)) {
				t.Fatalf("connected at %v: absolute end %v, idle end %v; want +%v and +%v", now, c.RefreshExpiresAt, c.RefreshIdleExpiresAt, rt08Absolute, rt08Idle)
			}
			conns = append(conns, rt08Conn{id: c.ID, subject: c.Subject, connected: now, end: c.RefreshExpiresAt})
		}
		clk.Advance(time.Second)
		loop.Sweep(ctx)
	}
	lastEnd := conns[len(conns)-1].end

	// failures keeps, per kind, the first failure of each connection, so
	// that one broken connection reads as one miss, not hundreds of lines.
	failures := map[string]map[string]string{}
	fail := func(kind, id, format string, args ...any) {
		if failures[kind] == nil {
			failures[kind] = map[string]string{}
		}
		if _, ok := failures[kind][id]; !ok {
			failures[kind][id] = fmt.Sprintf(format, args...)
		}
	}
	// checkpoint runs after every sweep. Nothing in it goes through grantd:
	// it reads the rows and presents the stored access token straight to
	// the sandbox, which resets no lifetime. It checks every connection
	// when all is set, and otherwise those whose end is at most a sweep
	// away (their last chance) or past.
	checkpoint := func(all bool) {
		now := clk.Now()
		for _, c := range conns {
			if !all && c.end.Sub(now) > rt08Step {
				continue
			}
			got, err := env.Store.GetConnection(ctx, c.id)
			if err != nil {
				t.Fatalf("GetConnection %s: %v", c.id, err)
			}
			if !now.Before(c.end) {
				if got.Status != store.StatusNeedsReauth {
					fail("not needs_reauth after the end", c.id, "at end%+v: status %s", now.Sub(c.end), got.Status)
				}
				continue
			}
			if got.Status != store.StatusActive {
				fail("lapsed before the end", c.id, "at end%v: status %s (%s)", now.Sub(c.end), got.Status, got.LastError)
				continue
			}
			if !got.RefreshIdleExpiresAt.After(now) {
				fail("lapsed before the end", c.id, "at end%v: idle deadline %v passed", now.Sub(c.end), got.RefreshIdleExpiresAt)
			}
			if !got.AccessExpiresAt.After(now) {
				fail("access token expired", c.id, "at end%v: access token expired at end%v", now.Sub(c.end), got.AccessExpiresAt.Sub(c.end))
			}
			at := openSealed(t, env, c.id, "access_token", got.AccessToken)
			if status, sub := userinfo(ctx, t, hc, env.Endpoints.UserinfoURL, at); status != http.StatusOK || sub != c.subject {
				fail("unusable before the end", c.id, "at end%v: userinfo %d for sub %q, want 200 for %q", now.Sub(c.end), status, sub, c.subject)
			}
		}
	}
	checkpoint(true)
	sweeps := 0
	for !clk.Now().After(lastEnd.Add(rt08Step)) {
		clk.Advance(rt08Step)
		loop.Sweep(ctx)
		sweeps++
		checkpoint(sweeps%rt08Every == 0)
	}

	// History, per connection, from the events grantd emitted.
	byConn := map[string]map[string][]store.Event{}
	ev.mu.Lock()
	for _, e := range ev.list {
		if byConn[e.ConnectionID] == nil {
			byConn[e.ConnectionID] = map[string][]store.Event{}
		}
		byConn[e.ConnectionID][e.Kind] = append(byConn[e.ConnectionID][e.Kind], e)
	}
	ev.mu.Unlock()
	refreshes, lastWindow, useless := 0, 0, 0
	for _, c := range conns {
		h := byConn[c.id]
		// Every use of the refresh token (consent, then each refresh)
		// comes less than the idle lifetime after the previous one, and
		// the last less than the idle lifetime before the end.
		uses := []time.Time{c.connected}
		for _, e := range h["refreshed"] {
			if !e.CreatedAt.Before(c.end) {
				fail("refreshed after the end", c.id, "refreshed at end%+v", e.CreatedAt.Sub(c.end))
			}
			if c.end.Sub(e.CreatedAt) < rt08Margin {
				lastWindow++
			}
			uses = append(uses, e.CreatedAt)
		}
		refreshes += len(h["refreshed"])
		uses = append(uses, c.end)
		for i := 1; i < len(uses); i++ {
			if gap := uses[i].Sub(uses[i-1]); gap >= rt08Idle {
				fail("idle gap", c.id, "refresh token unused for %v from end%v, idle lifetime %v", gap, uses[i-1].Sub(c.end), rt08Idle)
			}
			// With access tokens that outlive the grant, a refresh after
			// one whose idle deadline was already capped at the end keeps
			// nothing alive: the sweep must not send it.
			if i < len(uses)-1 && accessTTL >= rt08Absolute && !uses[i-1].Add(rt08Idle).Before(c.end) {
				useless++
				fail("useless refresh", c.id, "refreshed at end%v although the idle deadline was already the end", uses[i].Sub(c.end))
			}
		}

		// One reauth_due per threshold, within a sweep of it, before the end.
		notices := h["reauth_due"]
		if len(notices) != len(rt08Notices) {
			fail("reauth_due count", c.id, "%d reauth_due, want %d", len(notices), len(rt08Notices))
		} else {
			for i, th := range rt08Notices {
				due := c.end.Add(-th)
				if at := notices[i].CreatedAt; at.Before(due) || !at.Before(due.Add(rt08Step)) || !at.Before(c.end) {
					fail("reauth_due time", c.id, "notice %d at end%v, want in [end-%v, end-%v+%v) and before the end", i, at.Sub(c.end), th, th, rt08Step)
				}
				if want := c.end.UTC().Format(time.RFC3339); !strings.Contains(notices[i].Detail, want) {
					fail("reauth_due detail", c.id, "notice %q does not name the end %s", notices[i].Detail, want)
				}
			}
		}

		// One needs_reauth, for the absolute lifetime, within a sweep after the end.
		nr := h["needs_reauth"]
		const reason = "the grant reached its absolute lifetime"
		if len(nr) != 1 || nr[0].Detail != reason || nr[0].CreatedAt.Before(c.end) || !nr[0].CreatedAt.Before(c.end.Add(rt08Step)) {
			var got []string
			for _, e := range nr {
				got = append(got, fmt.Sprintf("end%+v %q", e.CreatedAt.Sub(c.end), e.Detail))
			}
			fail("needs_reauth", c.id, "needs_reauth events %v, want one %q in [end, end+%v)", got, reason, rt08Step)
		}
	}

	// The sandbox's view: every refresh it answered is one grantd stored,
	// none was refused, none reused a consumed token, no family revoked.
	st := env.Sandbox.Stats().Providers[sandbox.Pax8]
	if got := st.TokenRequests["authorization_code"]["ok"]; got != rt08Conns {
		t.Errorf("sandbox code exchanges ok = %d, want %d", got, rt08Conns)
	}
	for outcome, n := range st.TokenRequests["refresh_token"] {
		if outcome != "ok" {
			t.Errorf("sandbox refresh requests %q = %d, want 0", outcome, n)
		}
	}
	if got := st.TokenRequests["refresh_token"]["ok"]; got != refreshes {
		t.Errorf("sandbox refreshes ok = %d, grantd refreshed events = %d; want equal", got, refreshes)
	}
	if st.RefreshReuseDetected != 0 || st.FamiliesRevoked != 0 {
		t.Errorf("sandbox reuse_detected = %d, families_revoked = %d; want 0, 0", st.RefreshReuseDetected, st.FamiliesRevoked)
	}
	if least := rt08Conns * int(rt08Absolute/rt08Idle); refreshes < least {
		t.Errorf("refreshes = %d, fewer than the %d needed to cross %v in %v idle windows", refreshes, least, rt08Absolute, rt08Idle)
	}

	// After the end a caller is told, and nothing reaches the provider.
	for _, c := range conns {
		_, err := env.Broker.Token(ctx, c.id)
		if code := broker.CodeOf(err); code != broker.CodeNeedsReauth {
			fail("Token after the end", c.id, "Token after the end: code %q (%v), want %q", code, err, broker.CodeNeedsReauth)
		}
	}
	if after := env.Sandbox.Stats().Providers[sandbox.Pax8].TokenRequests["refresh_token"]; !maps.Equal(after, st.TokenRequests["refresh_token"]) {
		t.Errorf("Token after the end sent refresh requests: %v, was %v", after, st.TokenRequests["refresh_token"])
	}

	misses := map[string]bool{}
	for _, kind := range []string{"lapsed before the end", "idle gap", "unusable before the end", "access token expired"} {
		for id := range failures[kind] {
			misses[id] = true
		}
	}
	t.Logf("%d connections, %d sweeps every %v, %d refreshes (%d in the last %v before an end, %d that could not extend the grant), %d userinfo calls; miss rate %d/%d",
		rt08Conns, sweeps, rt08Step, refreshes, lastWindow, rt08Margin, useless, st.UserinfoRequests, len(misses), rt08Conns)
	kinds := make([]string, 0, len(failures))
	for k := range failures {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		ids := make([]string, 0, len(failures[kind]))
		for id := range failures[kind] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		t.Errorf("%s: %d connections, e.g. %s: %s", kind, len(ids), ids[0], failures[kind][ids[0]])
	}
}

// sandboxEnforcesIdle shows the scenario above is not vacuous: a
// connection nobody sweeps is refused by the sandbox once its 30 s
// inactivity lifetime has passed, and grantd's sweep then marks it
// needs_reauth without sending the dead token (RT-08).
func sandboxEnforcesIdle(t *testing.T) {
	ctx := t.Context()
	clk := testenv.NewClock()
	var ev events
	env := rt08Env(t, clk, time.Hour, ev.add)
	tenantID, _ := env.Tenant(t, "Idle MSP")
	c := env.Connect(t, tenantID, testenv.Partner)

	clk.Advance(rt08Idle)
	rt := openSealed(t, env, c.ID, "refresh_token", c.RefreshToken)
	secret := openSealed(t, env, env.Integration.ID, "client_secret", env.Integration.ClientSecret)
	body, _ := json.Marshal(map[string]string{
		"grant_type": "refresh_token", "refresh_token": rt,
		"client_id": env.Integration.ClientID, "client_secret": secret,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.Endpoints.TokenURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var oerr struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&oerr)
	resp.Body.Close()
	// Auth0, and so the pax8 sandbox, answers invalid_grant with a 403.
	if resp.StatusCode != http.StatusForbidden || oerr.Error != "invalid_grant" {
		t.Fatalf("refresh %v after the last use: %d %q, want 403 invalid_grant", rt08Idle, resp.StatusCode, oerr.Error)
	}

	rt08Loop(env).Sweep(ctx)
	got, err := env.Store.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusNeedsReauth || got.LastError != "the refresh token expired after inactivity" {
		t.Errorf("after the idle lifetime: status %s (%s), want needs_reauth for inactivity", got.Status, got.LastError)
	}
	if n := len(ev.of("needs_reauth")); n != 1 {
		t.Errorf("needs_reauth events = %d, want 1", n)
	}
	if got := env.Sandbox.Stats().Providers[sandbox.Pax8].TokenRequests["refresh_token"]; got["invalid_grant"] != 1 || got["ok"] != 0 {
		t.Errorf("sandbox refresh requests %v, want only this test's one invalid_grant (grantd sends nothing)", got)
	}
}

// openSealed opens a sealed field of a row, as the broker does.
func openSealed(t *testing.T, env *testenv.Env, rowID, field string, sealed []byte) string {
	t.Helper()
	table := "connection"
	if field == "client_secret" {
		table = "integration"
	}
	v, err := env.Vault.Open(sealed, vault.AAD(table, rowID, field))
	if err != nil {
		t.Fatalf("open %s.%s of %s: %v", table, field, rowID, err)
	}
	return string(v)
}

// userinfo presents access token at the sandbox's userinfo endpoint and
// returns the status and the sub it names.
func userinfo(ctx context.Context, t *testing.T, hc *http.Client, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Sub string `json:"sub"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Sub
}
