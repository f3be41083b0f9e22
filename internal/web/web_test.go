package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/connectresult"
	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/web"
)

func checkSecurityHeaders(t *testing.T, what string, p page) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Frame-Options": "DENY",
		"Referrer-Policy": "no-referrer",
	} {
		if got := p.header.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	csp := p.header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none'; style-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy = %q, want a strict policy", what, csp)
	}
	// No third-party subresources: every src/href is local.
	for _, attr := range []string{`src="`, `href="`} {
		for _, part := range strings.Split(p.body, attr)[1:] {
			// A link back to the allow-listed application is navigation,
			// not a subresource.
			if !strings.HasPrefix(part, "/") && !strings.HasPrefix(part, appURL+"?") {
				t.Errorf("%s: non-local %s%.40s", what, attr, part)
			}
		}
	}
}

func TestConnectPage(t *testing.T) {
	e := newEnv(t)
	u := e.link(broker.LinkRequest{})
	p := get(t, browser(), "GET", u)
	if p.status != 200 {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
	checkSecurityHeaders(t, "connect page", p)
	for _, want := range []string{
		"Integrate with Pax8",
		"Acme automation",
		"Manage:Pax8Data", "Read and manage your Pax8 data",
		"offline_access", "Keep this connection working",
		`action="/connect/`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("connect page lacks %q", want)
		}
	}
	if strings.Contains(p.body, "ReAuthorize") {
		t.Errorf("connect page offers ReAuthorize without a connection")
	}
	if got := p.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store (the URL holds the link token)", got)
	}
	// The redirect after the form goes to the provider: form-action allows it.
	sbOrigin := e.sb.Endpoints("pax8").AuthorizeURL
	sbu, _ := url.Parse(sbOrigin)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+sbu.Scheme+"://"+sbu.Host) {
		t.Errorf("CSP %q does not allow the provider in form-action", csp)
	}
	if p := get(t, browser(), "GET", e.srv.URL+"/static/style.css"); p.status != 200 || !strings.Contains(p.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", p.status, p.header.Get("Content-Type"))
	}
}

func TestBadLinks(t *testing.T) {
	e := newEnv(t)
	p := get(t, browser(), "GET", e.srv.URL+"/connect/not-a-real-token")
	if p.status != 404 || !strings.Contains(p.body, "This connect link is not valid") {
		t.Errorf("unknown link: %d %s", p.status, p.body)
	}
	checkSecurityHeaders(t, "error page", p)
	u := e.link(broker.LinkRequest{})
	e.clk.Advance(25 * time.Hour)
	p = get(t, browser(), "GET", u)
	if p.status != http.StatusGone || !strings.Contains(p.body, "expired") {
		t.Errorf("expired link: %d %s", p.status, p.body)
	}
	p = get(t, browser(), "POST", u+"/start")
	if p.status != http.StatusGone {
		t.Errorf("start with an expired link: %d, want 410", p.status)
	}
	if p := get(t, browser(), "GET", e.srv.URL+"/nope"); p.status != 404 {
		t.Errorf("GET /nope = %d, want 404", p.status)
	}
}

// TestFullFlow runs the Pax8 delegated flow over plain HTTP: page, button,
// sandbox login and consent, callback, success page (SEC-10 headers).
func TestFullFlow(t *testing.T) {
	e := newEnv(t)
	c := browser()
	auth := e.start(c, e.link(broker.LinkRequest{}))
	au, _ := url.Parse(auth)
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("audience") != "https://api.pax8.com" || q.Get("state") == "" {
		t.Errorf("authorization URL %s lacks S256, audience or state", auth)
	}
	// The browser binding cookie.
	srvURL, _ := url.Parse(e.srv.URL)
	var flow *http.Cookie
	for _, ck := range c.Jar.Cookies(srvURL) {
		if ck.Name == web.FlowCookie {
			flow = ck
		}
	}
	if flow == nil || len(flow.Value) < 43 {
		t.Fatalf("no %s cookie after start", web.FlowCookie)
	}
	cb := e.consent(c, auth, true)
	p := e.finish(c, cb)
	if !strings.Contains(p.body, "Connected to Pax8 as") || !strings.Contains(p.body, partner) {
		t.Errorf("success page lacks the account: %s", p.body)
	}
	checkSecurityHeaders(t, "callback", p)
	if got := p.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("callback Cache-Control = %q, want no-store (SEC-10)", got)
	}
	cbu, _ := url.Parse(cb)
	if code := cbu.Query().Get("code"); code == "" || strings.Contains(p.body, code) {
		t.Errorf("the success page repeats the code (SEC-10)")
	}
	cs := e.connections()
	if len(cs) != 1 || cs[0].TenantID != tenantID || cs[0].Status != store.StatusActive || cs[0].Email != partner {
		t.Fatalf("connections = %+v, want one active connection of %s", cs, tenantID)
	}
	if n := e.codeExchanges(); n != 1 {
		t.Errorf("code exchanges = %d, want 1", n)
	}
}

// TestReturnTo checks the 303 to the allow-listed URL carries nothing from
// the authorization response (SEC-10).
func TestReturnTo(t *testing.T) {
	e := newEnv(t)
	c := browser()
	cb := e.consent(c, e.start(c, e.link(broker.LinkRequest{ReturnTo: appURL})), true)
	p := get(t, c, "GET", cb)
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, appURL+"?") {
		t.Fatalf("callback = %d to %q, want 303 to %s", p.status, loc, appURL)
	}
	lu, _ := url.Parse(loc)
	cbq, _ := url.Parse(cb)
	for k := range lu.Query() {
		if cbq.Query().Has(k) && k != "error" {
			t.Errorf("return_to carries %s from the authorization response (SEC-10)", k)
		}
	}
	res := e.verifyResult(lu.Query())
	if res.Outcome != connectresult.Connected || res.ConnectionID == "" || res.Error != "" {
		t.Errorf("result = %+v, want connected with a connection id", res)
	}
	if p.header.Get("Referrer-Policy") != "no-referrer" || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("redirecting callback headers: %v (SEC-10)", p.header)
	}
	if cs := e.connections(); len(cs) != 1 || cs[0].ID != res.ConnectionID {
		t.Errorf("connections = %+v, want %s", cs, res.ConnectionID)
	}
}

// TestCallbackRejections covers the callback cases that must end on an
// error page with no token request and nothing stored.
func TestCallbackRejections(t *testing.T) {
	for _, tc := range []struct {
		name       string
		allow      bool
		tamper     func(e *env, cb *url.URL) (*http.Client, string)
		wantStatus int
		wantText   string
		wantCode   string
	}{
		{"SEC-01 missing state", true, func(e *env, cb *url.URL) (*http.Client, string) {
			q := cb.Query()
			q.Del("state")
			cb.RawQuery = q.Encode()
			return nil, cb.String()
		}, 400, "has no state", ""},
		{"SEC-01 altered state", true, func(e *env, cb *url.URL) (*http.Client, string) {
			q := cb.Query()
			q.Set("state", q.Get("state")+"x")
			cb.RawQuery = q.Encode()
			return nil, cb.String()
		}, 400, "unknown or was already used", ""},
		{"SEC-01 other browser", true, func(e *env, cb *url.URL) (*http.Client, string) {
			return browser(), cb.String()
		}, 400, "another browser", "browser_mismatch"},
		{"SEC-03 expired state", true, func(e *env, cb *url.URL) (*http.Client, string) {
			e.clk.Advance(11 * time.Minute)
			return nil, cb.String()
		}, 400, "expired", "state_expired"},
		{"SEC-11 access denied", false, func(e *env, cb *url.URL) (*http.Client, string) {
			return nil, cb.String()
		}, 403, "Access was not granted at Pax8", "access_denied"},
		{"SEC-21 iss mismatch", true, func(e *env, cb *url.URL) (*http.Client, string) {
			q := cb.Query()
			q.Set("iss", "https://attacker.example/")
			cb.RawQuery = q.Encode()
			return nil, cb.String()
		}, 400, "unexpected issuer", "issuer_mismatch"},
		{"SEC-24 other integration's callback path", true, func(e *env, cb *url.URL) (*http.Client, string) {
			cb.Path = "/oauth/callback/int_other"
			return nil, cb.String()
		}, 400, "another integration", "invalid_state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := browser()
			cb := e.consent(c, e.start(c, e.link(broker.LinkRequest{ReturnTo: appURL})), tc.allow)
			cbu, _ := url.Parse(cb)
			other, target := tc.tamper(e, cbu)
			if other != nil {
				c = other
			}
			p := get(t, c, "GET", target)
			if p.status != tc.wantStatus || !strings.Contains(p.body, tc.wantText) {
				t.Errorf("callback = %d, want %d with %q; body:\n%s", p.status, tc.wantStatus, tc.wantText, p.body)
			}
			checkSecurityHeaders(t, "callback error", p)
			// Every error page that knows the application links back to
			// it with the signed failure.
			back := backLink(p.body)
			if tc.wantCode == "" && back != "" {
				t.Errorf("error page without a session links to %s", back)
			}
			if tc.wantCode != "" {
				bu, err := url.Parse(back)
				if back == "" || err != nil || !strings.HasPrefix(back, appURL+"?") {
					t.Fatalf("error page: back link %q, want one to %s", back, appURL)
				}
				res := e.verifyResult(bu.Query())
				wantOutcome := connectresult.Error
				if tc.wantCode == "access_denied" {
					wantOutcome = connectresult.Denied
				}
				if res.Outcome != wantOutcome || res.Error != tc.wantCode || res.ConnectionID != "" {
					t.Errorf("back link result = %+v, want %s with %s", res, wantOutcome, tc.wantCode)
				}
			}
			if p.header.Get("Cache-Control") != "no-store" || p.header.Get("Location") != "" {
				t.Errorf("error callback: Cache-Control %q, Location %q (SEC-10)", p.header.Get("Cache-Control"), p.header.Get("Location"))
			}
			if cs := e.connections(); len(cs) != 0 {
				t.Errorf("connections stored: %d, want 0", len(cs))
			}
			if n := e.codeExchanges(); n != 0 {
				t.Errorf("token requests = %d, want 0", n)
			}
		})
	}
}

// TestCallbackReplaySEC02 replays the exact callback URL: the browser
// that completed it is shown its success page again (a reload), any other
// gets an error page, and the code is exchanged once.
func TestCallbackReplaySEC02(t *testing.T) {
	e := newEnv(t)
	c := browser()
	cb := e.consent(c, e.start(c, e.link(broker.LinkRequest{})), true)
	first := get(t, c, "GET", cb)
	if first.status != http.StatusSeeOther {
		t.Fatalf("first callback: %d", first.status)
	}
	reload := get(t, c, "GET", cb)
	if reload.status != http.StatusSeeOther || reload.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("reloaded callback = %d to %q, want 303 to the success page %q", reload.status, reload.header.Get("Location"), first.header.Get("Location"))
	}
	if p := get(t, c, "GET", e.srv.URL+reload.header.Get("Location")); p.status != 200 || !strings.Contains(p.body, "Connected to Pax8") {
		t.Errorf("success page after reload = %d %s", p.status, p.body)
	}
	p := get(t, browser(), "GET", cb)
	if p.status != 400 || !strings.Contains(p.body, "already used") {
		t.Errorf("replayed callback = %d %s, want 400", p.status, p.body)
	}
	if n := e.codeExchanges(); n != 1 {
		t.Errorf("code exchanges = %d, want 1", n)
	}
	if n := len(e.connections()); n != 1 {
		t.Errorf("connections = %d, want 1", n)
	}
}

func TestReAuthorizeButton(t *testing.T) {
	e := newEnv(t)
	c := browser()
	cb := e.consent(c, e.start(c, e.link(broker.LinkRequest{})), true)
	e.finish(c, cb)
	conn := e.connections()[0]
	u := e.link(broker.LinkRequest{ConnectionID: conn.ID})
	p := get(t, browser(), "GET", u)
	if !strings.Contains(p.body, ">ReAuthorize<") || strings.Contains(p.body, "Integrate with Pax8") {
		t.Errorf("page for an existing connection lacks ReAuthorize:\n%s", p.body)
	}
	if strings.Contains(p.body, "reauth-warning") {
		t.Errorf("warning shown for an active connection")
	}
	if _, err := e.st.UpdateConnection(t.Context(), conn.ID, func(c store.Connection) (store.Connection, error) {
		c.Status = store.StatusNeedsReauth
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	p = get(t, browser(), "GET", u)
	if !strings.Contains(p.body, "reauth-warning") || !strings.Contains(p.body, "needs_reauth") {
		t.Errorf("needs_reauth connection: no warning:\n%s", p.body)
	}
	// Reauthorizing restores the same connection.
	c = browser()
	cb = e.consent(c, e.start(c, u), true)
	if p := e.finish(c, cb); !strings.Contains(p.body, "Connected to Pax8") {
		t.Fatalf("reauthorize: %s", p.body)
	}
	cs := e.connections()
	if len(cs) != 1 || cs[0].ID != conn.ID || cs[0].Status != store.StatusActive {
		t.Errorf("after reauthorization: %+v, want %s active", cs, conn.ID)
	}
}

func TestStartRejectsCrossOrigin(t *testing.T) {
	e := newEnv(t)
	u := e.link(broker.LinkRequest{})
	p := get(t, browser(), "POST", u+"/start", "Sec-Fetch-Site", "cross-site")
	if p.status != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", p.status)
	}
	if n := e.sb.Stats().Providers["pax8"].AuthorizeRequests; n != 0 {
		t.Errorf("authorize requests = %d, want 0", n)
	}
	p = get(t, browser(), "GET", u+"/start")
	if p.status == http.StatusSeeOther {
		t.Errorf("GET start redirected; starting must need a POST")
	}
}

func TestFlowCookieAttributes(t *testing.T) {
	e := newEnv(t)
	res, err := browser().Post(e.link(broker.LinkRequest{})+"/start", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var got *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == web.FlowCookie {
			got = c
		}
	}
	if got == nil {
		t.Fatal("no flow cookie")
	}
	if !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Path != "/" || got.MaxAge != 600 {
		t.Errorf("cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, Max-Age=600", got)
	}
}

// TestExpiredLinkOffersWayBack: a link page that cannot go on links back
// to the application's return_to with the signed failure; a link without
// return_to shows none.
func TestExpiredLinkOffersWayBack(t *testing.T) {
	e := newEnv(t)
	u := e.link(broker.LinkRequest{ReturnTo: appURL})
	bare := e.link(broker.LinkRequest{})
	e.clk.Advance(2 * time.Hour)
	p := get(t, browser(), "GET", u)
	if p.status != http.StatusGone {
		t.Fatalf("expired link = %d, want 410", p.status)
	}
	checkSecurityHeaders(t, "expired link", p)
	back := backLink(p.body)
	bu, err := url.Parse(back)
	if back == "" || err != nil {
		t.Fatalf("expired link page has no way back:\n%s", p.body)
	}
	res := e.verifyResult(bu.Query())
	if res.Outcome != connectresult.Error || res.Error != "link_expired" {
		t.Errorf("back link result = %+v, want error link_expired", res)
	}
	if p := get(t, browser(), "POST", u+"/start"); backLink(p.body) == "" {
		t.Errorf("expired link start: no way back:\n%s", p.body)
	}
	if p := get(t, browser(), "GET", bare); backLink(p.body) != "" {
		t.Errorf("link without return_to offers a way back")
	}
}

// TestLabelsReachConnection: end_user and tags given to the connect
// session end up on the connection, with the scopes it asked for; a
// reauthorization without labels keeps them.
func TestLabelsReachConnection(t *testing.T) {
	e := newEnv(t)
	c := browser()
	want := store.EndUser{ID: "u-42", Email: "ops@customer.example", DisplayName: "Ops"}
	e.finish(c, e.consent(c, e.start(c, e.link(broker.LinkRequest{EndUser: want, Tags: []string{"plan:gold"}})), true))
	cs := e.connections()
	if len(cs) != 1 || cs[0].EndUser != want || len(cs[0].Tags) != 1 || cs[0].Tags[0] != "plan:gold" {
		t.Fatalf("connections = %+v, want one with the session's end user and tags", cs)
	}
	if len(cs[0].RequestedScopes) == 0 || cs[0].RequestedScopes[0] != "Manage:Pax8Data" {
		t.Errorf("requested scopes = %v", cs[0].RequestedScopes)
	}
	c = browser()
	e.finish(c, e.consent(c, e.start(c, e.link(broker.LinkRequest{ConnectionID: cs[0].ID})), true))
	if got := e.connections(); got[0].EndUser != want || len(got[0].Tags) != 1 {
		t.Errorf("after reauthorization: end user %+v, tags %v; want them kept", got[0].EndUser, got[0].Tags)
	}
}
