package broker_test

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
)

func TestConnectFlow(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	f := e.begin(ctx, broker.LinkRequest{Provider: "pax8", ReturnTo: "https://app.example.com/integrations/pax8?done=1"})

	// SEC-04, SEC-12, SEC-62: the authorization URL is built server-side
	// with S256, the configured audience, state, nonce, and no verifier.
	q := f.authURL.Query()
	for k, want := range map[string]string{
		"response_type": "code", "code_challenge_method": "S256", "audience": "https://api.pax8.com",
		"client_id": e.integ.ClientID, "redirect_uri": e.integ.RedirectURI,
		"scope": "Manage:Pax8Data openid profile email offline_access",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	if len(q.Get("state")) < 43 || len(q.Get("nonce")) < 43 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q nonce %q challenge %q too short", q.Get("state"), q.Get("nonce"), q.Get("code_challenge"))
	}
	if q.Has("code_verifier") {
		t.Error("authorization URL carries the PKCE verifier (SEC-62)")
	}

	cb := e.consent(ctx, f, true)
	got, err := e.b.Callback(ctx, e.integ.ID, cb, f.browser)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Connection
	if got.ReturnTo != "https://app.example.com/integrations/pax8?done=1" {
		t.Errorf("ReturnTo = %q", got.ReturnTo)
	}
	if c.Status != "active" || c.Subject == "" || c.Email != partner || c.TenantID != e.tenant {
		t.Errorf("connection = %+v", c)
	}
	if want := []string{"Manage:Pax8Data", "openid", "profile", "email", "offline_access"}; !slices.Equal(c.Scopes, want) {
		t.Errorf("scopes = %v, want %v", c.Scopes, want)
	}
	if want := c.ConnectedAt.Add(8766 * time.Hour); !c.RefreshExpiresAt.Equal(want) {
		t.Errorf("absolute expiry %v, want %v", c.RefreshExpiresAt, want)
	}
	tok, err := e.b.Token(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.Equal(e.clk.Now().Add(24*time.Hour)) || tok.TokenType != "Bearer" {
		t.Errorf("token expires %v type %s, want +24h Bearer", tok.ExpiresAt, tok.TokenType)
	}
	if _, err := e.b.TenantToken(ctx, "ten_other", c.ID); broker.CodeOf(err) != broker.CodeNotFound {
		t.Errorf("other tenant's TenantToken = %v, want not_found (SEC-43)", err)
	}
}

// callbackCase tampers with an honest flow's callback; every case must fail
// with code, send no token request and store nothing.
type callbackCase struct {
	name   string
	tamper func(e *env, f *flow, q url.Values) (integ, browser string)
	code   broker.Code
	allow  bool
	fault  string
	opts   []envOption
}

func TestCallbackRefusesBeforeTokenRequest(t *testing.T) {
	same := func(e *env, f *flow, q url.Values) (string, string) { return e.integ.ID, f.browser }
	cases := []callbackCase{
		{name: "SEC-01 missing state", allow: true, code: broker.CodeInvalidState, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			q.Del("state")
			return same(e, f, q)
		}},
		{name: "SEC-01 altered state", allow: true, code: broker.CodeInvalidState, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			q.Set("state", q.Get("state")+"x")
			return same(e, f, q)
		}},
		{name: "SEC-01 unknown state", allow: true, code: broker.CodeInvalidState, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			q.Set("state", strings.Repeat("A", 43))
			return same(e, f, q)
		}},
		{name: "SEC-01 other browser", allow: true, code: broker.CodeBrowserMismatch, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			return e.integ.ID, otherBrowser(f.browser)
		}},
		{name: "SEC-01 no browser cookie", allow: true, code: broker.CodeBrowserMismatch, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			return e.integ.ID, ""
		}},
		{name: "SEC-03 expired state", allow: true, code: broker.CodeStateExpired, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			e.clk.Advance(10*time.Minute + time.Second)
			return same(e, f, q)
		}},
		{name: "missing code", allow: true, code: broker.CodeInvalidRequest, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			q.Del("code")
			return same(e, f, q)
		}},
		{name: "SEC-11 access_denied", allow: false, code: broker.CodeAccessDenied, tamper: same},
		{name: "SEC-11 error with foreign iss is not attributed", allow: false, code: broker.CodeIssuerMismatch, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			q.Set("iss", "https://attacker.example/")
			return same(e, f, q)
		}},
		{name: "SEC-21 iss of another issuer", allow: true, code: broker.CodeIssuerMismatch, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			q.Set("iss", "https://attacker.example/")
			return same(e, f, q)
		}},
		{name: "SEC-21 iss without trailing slash", allow: true, code: broker.CodeIssuerMismatch, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			q.Set("iss", strings.TrimSuffix(e.ep.Issuer, "/"))
			return same(e, f, q)
		}},
		{name: "SEC-21 iss_mismatch from the sandbox", allow: true, code: broker.CodeIssuerMismatch, fault: "iss_mismatch",
			opts: []envOption{withSettings(func() sandbox.Settings { s := strict(); s.SendIss = true; return s }())}, tamper: same},
		{name: "SEC-22 iss missing where required", allow: true, code: broker.CodeIssuerMismatch, fault: "iss_missing",
			opts: []envOption{
				withSettings(func() sandbox.Settings { s := strict(); s.SendIss = true; return s }()),
				withProvider(func(p *provider.Provider) { p.IssParameter = provider.IssRequired }),
			}, tamper: same},
		{name: "SEC-24 callback on another integration's path", allow: true, code: broker.CodeInvalidState, tamper: func(e *env, f *flow, q url.Values) (string, string) {
			other := e.addIntegration("int_other", "")
			return other.ID, f.browser
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			ctx := t.Context()
			f := e.begin(ctx, broker.LinkRequest{})
			if tc.fault != "" {
				if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "authorize", Kind: tc.fault}); err != nil {
					t.Fatal(err)
				}
			}
			q := e.consent(ctx, f, tc.allow)
			integ, browser := tc.tamper(e, f, q)
			_, err := e.b.Callback(ctx, integ, q, browser)
			if got := broker.CodeOf(err); got != tc.code {
				t.Fatalf("Callback = %v (code %q), want code %q", err, got, tc.code)
			}
			assertSafeMessage(t, err, q)
			if n := e.tokenRequests("authorization_code"); n != 0 {
				t.Errorf("token requests = %d, want 0", n)
			}
			if cs := e.connections(); len(cs) != 0 {
				t.Errorf("stored %d connections, want 0", len(cs))
			}
		})
	}
}

// otherBrowser returns a cookie value that differs from b in its first
// character, which carries full bits in base64url, so it never decodes to
// the same binding.
func otherBrowser(b string) string {
	c := byte('A')
	if b[0] == c {
		c = 'B'
	}
	return string(c) + b[1:]
}

// assertSafeMessage checks the client-facing message echoes no code, state
// or token.
func assertSafeMessage(t *testing.T, err error, q url.Values) {
	t.Helper()
	be, ok := err.(*broker.Error)
	if !ok {
		t.Fatalf("error %T is not a *broker.Error", err)
	}
	for _, k := range []string{"code", "state"} {
		if v := q.Get(k); v != "" && strings.Contains(be.Msg, v) {
			t.Errorf("message %q echoes %s", be.Msg, k)
		}
	}
}

// TestCallbackReplay is SEC-02: the same callback twice exchanges the code
// once.
func TestCallbackReplay(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	f := e.begin(ctx, broker.LinkRequest{})
	q := e.consent(ctx, f, true)
	if _, err := e.b.Callback(ctx, e.integ.ID, q, f.browser); err != nil {
		t.Fatal(err)
	}
	_, err := e.b.Callback(ctx, e.integ.ID, q, f.browser)
	if broker.CodeOf(err) != broker.CodeInvalidState {
		t.Errorf("replayed callback = %v, want invalid_state", err)
	}
	if n := e.tokenRequests("authorization_code"); n != 1 {
		t.Errorf("code exchanges = %d, want 1", n)
	}
}

// TestCodeInjection is SEC-05 and SEC-06: a code obtained in flow A and
// injected into flow B's callback fails PKCE at the sandbox, and nothing is
// stored.
func TestCodeInjection(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.begin(ctx, broker.LinkRequest{})
	qa := e.consent(ctx, a, true)
	b := e.begin(ctx, broker.LinkRequest{})
	qb := e.consent(ctx, b, true)
	qb.Set("code", qa.Get("code"))
	_, err := e.b.Callback(ctx, e.integ.ID, qb, b.browser)
	if broker.CodeOf(err) != broker.CodeTokenResponse {
		t.Fatalf("injected code = %v, want invalid_token_response", err)
	}
	if got := e.sb.Stats().Providers["pax8"].TokenRequests["authorization_code"]["invalid_grant"]; got != 1 {
		t.Errorf("sandbox invalid_grant count = %d, want 1", got)
	}
	if cs := e.connections(); len(cs) != 0 {
		t.Errorf("stored %d connections, want 0", len(cs))
	}
}

// TestTokenResponseFaults covers SEC-31, SEC-32 and the token endpoint
// misbehaviours: each bad response stores nothing; the lenient ones are
// accepted.
func TestTokenResponseFaults(t *testing.T) {
	for _, tc := range []struct {
		fault string
		code  broker.Code // "" means accepted
	}{
		{"html", broker.CodeUpstreamDown},
		{"server_error", broker.CodeUpstreamDown},
		{"malformed", broker.CodeTokenResponse},
		{"no_access_token", broker.CodeTokenResponse},
		{"token_type_mac", broker.CodeTokenResponse}, // SEC-31
		{"expires_in_negative", broker.CodeTokenResponse},
		{"expires_in_huge", broker.CodeTokenResponse},
		{"expires_in_string", ""},
		{"scope_narrowed", ""}, // SEC-32
	} {
		t.Run(tc.fault, func(t *testing.T) {
			e := newEnv(t)
			ctx := t.Context()
			f := e.begin(ctx, broker.LinkRequest{})
			q := e.consent(ctx, f, true)
			if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: tc.fault}); err != nil {
				t.Fatal(err)
			}
			got, err := e.b.Callback(ctx, e.integ.ID, q, f.browser)
			if broker.CodeOf(err) != tc.code {
				t.Fatalf("Callback = %v, want code %q", err, tc.code)
			}
			if tc.code != "" {
				assertSafeMessage(t, err, q)
				if cs := e.connections(); len(cs) != 0 {
					t.Errorf("stored %d connections, want 0", len(cs))
				}
				return
			}
			switch tc.fault {
			case "expires_in_string":
				tok, _ := e.b.Token(ctx, got.Connection.ID)
				if !tok.ExpiresAt.Equal(e.clk.Now().Add(24 * time.Hour)) {
					t.Errorf("expiry %v, want now+24h", tok.ExpiresAt)
				}
			case "scope_narrowed":
				if len(got.Connection.Scopes) >= len(e.integ.Scopes) {
					t.Errorf("stored scopes %v, want the narrower granted scope", got.Connection.Scopes)
				}
			}
		})
	}
}

// TestIDTokenFaults covers OIDC-01…14 and 18 (and SEC-06/07): every bad
// id_token is refused and nothing is stored; the acceptable variants pass.
func TestIDTokenFaults(t *testing.T) {
	for _, tc := range []struct {
		fault  string
		accept bool
	}{
		{"id_token_iss_mismatch", false},       // OIDC-01
		{"id_token_iss_trailing_slash", false}, // OIDC-01
		{"id_token_no_aud", false},             // OIDC-02
		{"id_token_wrong_aud", false},          // OIDC-02
		{"id_token_extra_aud", false},          // OIDC-02
		{"id_token_multi_aud_no_azp", false},   // OIDC-03
		{"id_token_wrong_azp", false},          // OIDC-03
		{"id_token_no_sub", false},             // OIDC-04
		{"id_token_expired", false},            // OIDC-05
		{"id_token_no_iat", false},             // OIDC-06
		{"id_token_future_iat", false},         // OIDC-06
		{"id_token_no_nonce", false},           // OIDC-07, SEC-07
		{"id_token_wrong_nonce", false},        // OIDC-07, SEC-06
		{"id_token_bad_signature", false},      // OIDC-08
		{"id_token_alg_none", false},           // OIDC-09
		{"id_token_hs256", false},              // OIDC-10
		{"id_token_no_kid", true},              // OIDC-11
		{"id_token_unknown_kid_rotated", true}, // OIDC-13
		{"id_token_bad_at_hash", false},        // OIDC-18
	} {
		t.Run(tc.fault, func(t *testing.T) {
			e := newEnv(t)
			ctx := t.Context()
			// Warm the verifier's key cache with an honest login first, so
			// the rotation case proves a re-fetch.
			e.connect(ctx)
			// Past the verifier's JWKS re-fetch throttle (OIDC-13 bounds
			// unknown-kid storms to one fetch per interval).
			e.clk.Advance(15 * time.Second)
			before := len(e.connections())
			f := e.begin(ctx, broker.LinkRequest{})
			q := e.consent(ctx, f, true)
			if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: tc.fault}); err != nil {
				t.Fatal(err)
			}
			_, err := e.b.Callback(ctx, e.integ.ID, q, f.browser)
			if tc.accept {
				if err != nil {
					t.Fatalf("Callback = %v, want accepted", err)
				}
				return
			}
			if broker.CodeOf(err) != broker.CodeIDToken {
				t.Fatalf("Callback = %v, want invalid_id_token", err)
			}
			if n := len(e.connections()); n != before {
				t.Errorf("connections %d → %d, want unchanged", before, n)
			}
		})
	}
}

// TestJWKSBadKeyIgnored is OIDC-14: an unparseable key next to the good one
// does not stop verification.
func TestJWKSBadKeyIgnored(t *testing.T) {
	e := newEnv(t)
	if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "jwks", Kind: "jwks_bad_key", Count: 5}); err != nil {
		t.Fatal(err)
	}
	e.connect(t.Context())
}

// TestRefreshedIDTokenFaults is OIDC-15 and issue 6's "refreshed id_tokens
// are verified": OIDC Core §12.2 with the original nonce carried. Each
// sandbox fault on a refresh answer's id_token makes grantd keep the
// rotated refresh token (the one it sent is spent), hand out no access
// token from that answer, mark the connection needs_reauth with the
// reason and emit the event; only an unreachable JWKS is forgiven
// (TestRefreshKeepsTokensWhenJWKSDown).
func TestRefreshedIDTokenFaults(t *testing.T) {
	for _, kind := range []string{
		"id_token_other_sub",     // §12.2: sub must equal the original
		"id_token_bad_signature", // OIDC-08
		"id_token_expired",       // OIDC-05
		"id_token_wrong_aud",     // OIDC-02
		"id_token_iss_mismatch",  // OIDC-01
		"id_token_wrong_nonce",   // §12.2: a nonce must be the original's
		"id_token_wrong_azp",     // OIDC-03
	} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, withSettings(sandbox.Settings{Rotation: true}))
			ctx := t.Context()
			c := e.connect(ctx)
			before, err := e.b.Token(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: kind, GrantType: "refresh_token"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.b.Refresh(ctx, c.ID, ""); broker.CodeOf(err) != broker.CodeIDToken {
				t.Fatalf("Refresh = %v, want invalid_id_token", err)
			}
			got, _ := e.st.GetConnection(ctx, c.ID)
			if got.Status != store.StatusNeedsReauth || !strings.Contains(got.LastError, "id_token") {
				t.Errorf("status %s (%q), want needs_reauth naming the id_token", got.Status, got.LastError)
			}
			if bytes.Equal(got.RefreshToken, c.RefreshToken) {
				t.Error("the rotated refresh token in the rejected answer was not kept")
			}
			if !bytes.Equal(got.AccessToken, c.AccessToken) {
				t.Error("the access token of the rejected answer was stored")
			}
			if _, err := e.b.Token(ctx, c.ID); broker.CodeOf(err) != broker.CodeNeedsReauth {
				t.Errorf("Token after a rejected refresh = %v, want needs_reauth (and never %q's successor)", err, before.ConnectionID)
			}
			evs, _ := e.st.ListEvents(ctx, c.ID, 1)
			if len(evs) != 1 || evs[0].Kind != "needs_reauth" {
				t.Errorf("last event = %+v, want needs_reauth", evs)
			}
		})
	}
}

// TestAudienceTamper is SEC-12: an attacker who edits audience in the
// browser leg gets a token for another API, which the broker refuses.
func TestAudienceTamper(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	f := e.begin(ctx, broker.LinkRequest{})
	q := f.authURL.Query()
	q.Set("audience", "api://p8p.client")
	f.authURL.RawQuery = q.Encode()
	cb := e.consent(ctx, f, true)
	_, err := e.b.Callback(ctx, e.integ.ID, cb, f.browser)
	if broker.CodeOf(err) != broker.CodeTokenResponse {
		t.Fatalf("tampered audience = %v, want invalid_token_response", err)
	}
	if cs := e.connections(); len(cs) != 0 {
		t.Errorf("stored %d connections, want 0", len(cs))
	}
}

// TestReturnToAllowList is SEC-09.
func TestReturnToAllowList(t *testing.T) {
	e := newEnv(t)
	for _, rt := range []string{
		"//evil.example/", "https:evil.example", "%2F%2Fevil.example", `\\evil.example`, `https://app.example.com\@evil.example/`,
		"https://app.example.com@evil.example/integrations/", "https://evil.example/integrations/", "http://app.example.com/integrations/",
		"https://app.example.com/other", "https://app.example.com/integrations/..%2F..%2Fadmin", "https://app.example.com/integrations/../admin",
		"https://app.example.com.evil.example/integrations/", "https://аpp.example.com/integrations/", "javascript:alert(1)", "/integrations/",
		"https://app.example.com:444/integrations/",
	} {
		_, err := e.b.CreateLink(t.Context(), e.tenant, broker.LinkRequest{IntegrationID: e.integ.ID, ReturnTo: rt})
		if broker.CodeOf(err) != broker.CodeInvalidReturnTo {
			t.Errorf("CreateLink(return_to=%q) = %v, want invalid_return_to", rt, err)
		}
	}
	if _, err := e.b.CreateLink(t.Context(), e.tenant, broker.LinkRequest{IntegrationID: e.integ.ID, ReturnTo: "https://app.example.com/integrations/pax8"}); err != nil {
		t.Errorf("allowed return_to refused: %v", err)
	}
}

// TestStateEntropy is SEC-01 and SEC-05: many flows never repeat a state or
// a PKCE challenge, and states carry at least 128 bits.
func TestStateEntropy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	link, err := e.b.CreateLink(ctx, e.tenant, broker.LinkRequest{IntegrationID: e.integ.ID})
	if err != nil {
		t.Fatal(err)
	}
	token := link.URL[strings.LastIndex(link.URL, "/")+1:]
	states, challenges := map[string]bool{}, map[string]bool{}
	const n = 2000
	for range n {
		raw, err := e.b.Start(ctx, token, strings.Repeat("b", 43))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		s, c := u.Query().Get("state"), u.Query().Get("code_challenge")
		if len(s)*6 < 128 {
			t.Fatalf("state %q carries fewer than 128 bits", s)
		}
		states[s], challenges[c] = true, true
	}
	if len(states) != n || len(challenges) != n {
		t.Errorf("distinct states %d challenges %d, want %d each", len(states), len(challenges), n)
	}
	// SEC-03: expired sessions are purged.
	e.clk.Advance(25 * time.Hour)
	purged, err := e.b.Purge(ctx)
	if err != nil || purged < n {
		t.Errorf("Purge = %d, %v, want ≥ %d", purged, err, n)
	}
}

// TestReauthorizeReplacesGrant: a second consent through the tenant's link
// (the page shows "ReAuthorize") replaces the existing connection's grant
// instead of adding a connection, and revives a needs_reauth connection.
func TestReauthorizeReplacesGrant(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: "invalid_grant", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Refresh(ctx, c.ID, ""); broker.CodeOf(err) != broker.CodeNeedsReauth {
		t.Fatalf("Refresh = %v, want needs_reauth", err)
	}
	again := e.reconnect(ctx, c.ID)
	if again.ID != c.ID {
		t.Errorf("reauthorizing created connection %s, want %s replaced", again.ID, c.ID)
	}
	if n := len(e.connections()); n != 1 {
		t.Errorf("connections = %d, want 1", n)
	}
	if again.Status != "active" {
		t.Errorf("status = %s, want active", again.Status)
	}
	if _, err := e.b.Token(ctx, c.ID); err != nil {
		t.Errorf("Token after reauthorization: %v", err)
	}
}

// TestDiscoveryIssuerMismatch is OIDC-16: a provider configured with an
// issuer its discovery document does not name (here, without Auth0's
// trailing slash) cannot start an authorization.
func TestDiscoveryIssuerMismatch(t *testing.T) {
	e := newEnv(t, withProvider(func(p *provider.Provider) { p.Issuer = strings.TrimSuffix(p.Issuer, "/") }))
	link, err := e.b.CreateLink(t.Context(), e.tenant, broker.LinkRequest{IntegrationID: e.integ.ID})
	if err != nil {
		t.Fatal(err)
	}
	token := link.URL[strings.LastIndex(link.URL, "/")+1:]
	if _, err := e.b.Start(t.Context(), token, strings.Repeat("b", 43)); broker.CodeOf(err) != broker.CodeIssuerMismatch {
		t.Errorf("Start with a mismatched issuer = %v, want issuer_mismatch", err)
	}
	if n := e.sb.Stats().Providers["pax8"].AuthorizeRequests; n != 0 {
		t.Errorf("authorize requests = %d, want 0", n)
	}
}
