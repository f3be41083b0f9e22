package broker_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
)

// otherPartner is the sandbox's second partner account.
const otherPartner = "ops@northwind-msp.test"

// linkToken creates a connect link and returns its token and link.
func (e *env) linkToken(ctx context.Context, req broker.LinkRequest) (string, broker.Link) {
	e.t.Helper()
	if req.IntegrationID == "" {
		req.IntegrationID = e.integ.ID
	}
	l, err := e.b.CreateLink(ctx, e.tenant, req)
	if err != nil {
		e.t.Fatalf("CreateLink: %v", err)
	}
	return l.URL[strings.LastIndex(l.URL, "/")+1:], l
}

// startAs presses the button of link token in a new browser and consents
// at the sandbox as username; it returns the browser secret and the
// callback query.
func (e *env) startAs(ctx context.Context, token, username string) (string, url.Values) {
	e.t.Helper()
	browser := rand.Text() + rand.Text()
	raw, err := e.b.Start(ctx, token, browser)
	if err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	loc, err := sandboxtest.Login(ctx, hc, raw, username, password, true)
	if err != nil {
		e.t.Fatalf("sandbox login as %s: %v", username, err)
	}
	return browser, loc.Query()
}

// sha is the SHA-256 of a link token, as stored.
func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// TestConnectLinkSpentOnce: a link that produced a connection is spent:
// its page and button refuse with link_used and start nothing, and of two
// authorizations started from it before either finished, the second is
// refused, stores nothing, and its fresh grant is revoked at the sandbox.
func TestConnectLinkSpentOnce(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	token, l := e.linkToken(ctx, broker.LinkRequest{})
	if want := e.clk.Now().Add(time.Hour); !l.ExpiresAt.Equal(want) {
		t.Errorf("link expires at %v, want %v (the 1 h default)", l.ExpiresAt, want)
	}
	b1, q1 := e.startAs(ctx, token, partner)
	b2, q2 := e.startAs(ctx, token, partner)
	first, err := e.b.Callback(ctx, e.integ.ID, q1, b1)
	if err != nil {
		t.Fatalf("first Callback: %v", err)
	}
	revokedBefore := e.sb.Stats().Providers["pax8"].FamiliesRevoked
	if _, err := e.b.Callback(ctx, e.integ.ID, q2, b2); broker.CodeOf(err) != broker.CodeLinkUsed {
		t.Errorf("second Callback from the same link = %v, want link_used", err)
	}
	if n := e.sb.Stats().Providers["pax8"].FamiliesRevoked - revokedBefore; n != 1 {
		t.Errorf("families revoked by the refused callback = %d, want 1 (its unused grant)", n)
	}
	if cs := e.connections(); len(cs) != 1 || cs[0].ID != first.Connection.ID {
		t.Errorf("connections = %d, want only the first", len(cs))
	}
	authorizes := e.sb.Stats().Providers["pax8"].AuthorizeRequests
	if _, err := e.b.Link(ctx, token); broker.CodeOf(err) != broker.CodeLinkUsed {
		t.Errorf("Link after use = %v, want link_used", err)
	}
	if _, err := e.b.Start(ctx, token, strings.Repeat("c", 43)); broker.CodeOf(err) != broker.CodeLinkUsed {
		t.Errorf("Start after use = %v, want link_used", err)
	}
	if n := e.sb.Stats().Providers["pax8"].AuthorizeRequests; n != authorizes {
		t.Errorf("authorize requests after the spent link = %d, want %d", n, authorizes)
	}
	got, err := e.st.GetConnectLinkByTokenHash(ctx, sha(token))
	if err != nil || got.UsedAt.IsZero() {
		t.Errorf("stored link = used at %v, %v; want a use time", got.UsedAt, err)
	}
}

// TestLinkWithoutConnectionCreatesNew: a link made without connection_id
// creates a new connection, even when the tenant has one through the
// integration, and leaves that one as it was.
func TestLinkWithoutConnectionCreatesNew(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	token, _ := e.linkToken(ctx, broker.LinkRequest{})
	page, err := e.b.Link(ctx, token)
	if err != nil || page.Existing != nil {
		t.Errorf("Link = existing %v, %v; want no connection offered for reauthorization", page.Existing, err)
	}
	browser, q := e.startAs(ctx, token, otherPartner)
	got, err := e.b.Callback(ctx, e.integ.ID, q, browser)
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if got.Connection.ID == c.ID {
		t.Fatalf("the link replaced connection %s, want a new one", c.ID)
	}
	old, err := e.st.GetConnection(ctx, c.ID)
	if err != nil || old.Version != c.Version || old.Subject != c.Subject {
		t.Errorf("first connection after another link = v%d %s, %v; want v%d %s unchanged", old.Version, old.Subject, err, c.Version, c.Subject)
	}
	if kinds, _ := e.eventKinds(got.Connection.ID); len(kinds) != 1 || kinds[0] != "connected" {
		t.Errorf("events of the new connection = %q, want [connected]", kinds)
	}
}

// TestReauthorizeKeepsAccount: a reauthorization link that comes back
// with another vendor account is refused with a page naming the expected
// account, changes nothing (row, link, events) and revokes the unused
// grant; the same account is accepted, recorded as reauthorized, and the
// replaced grant is revoked at the sandbox.
func TestReauthorizeKeepsAccount(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	if c.Email == "" || c.Subject == "" {
		t.Fatalf("connection has email %q sub %q, want both", c.Email, c.Subject)
	}
	token, _ := e.linkToken(ctx, broker.LinkRequest{ConnectionID: c.ID})
	revoked := e.sb.Stats().Providers["pax8"].FamiliesRevoked
	browser, q := e.startAs(ctx, token, otherPartner)
	_, err := e.b.Callback(ctx, e.integ.ID, q, browser)
	if broker.CodeOf(err) != broker.CodeAccountMismatch {
		t.Fatalf("Callback as another partner = %v, want account_mismatch", err)
	}
	if !strings.Contains(err.Error(), c.Email) {
		t.Errorf("refusal %q does not name the expected account %s", err, c.Email)
	}
	if n := e.sb.Stats().Providers["pax8"].FamiliesRevoked - revoked; n != 1 {
		t.Errorf("families revoked by the refusal = %d, want 1 (the other account's unused grant)", n)
	}
	got, err := e.st.GetConnection(ctx, c.ID)
	if err != nil || got.Version != c.Version || got.Subject != c.Subject || string(got.RefreshToken) != string(c.RefreshToken) {
		t.Errorf("connection after the refusal = v%d %s, %v; want v%d %s with its grant", got.Version, got.Subject, err, c.Version, c.Subject)
	}
	if l, err := e.st.GetConnectLinkByTokenHash(ctx, sha(token)); err != nil || !l.UsedAt.IsZero() {
		t.Errorf("link after the refusal = used %v, %v; want unused", l.UsedAt, err)
	}
	if kinds, _ := e.eventKinds(c.ID); len(kinds) != 1 {
		t.Errorf("events after the refusal = %q, want only [connected]", kinds)
	}

	// The same link, now with the right account.
	oldRefresh := e.refreshTokenOf(got)
	browser, q = e.startAs(ctx, token, partner)
	res, err := e.b.Callback(ctx, e.integ.ID, q, browser)
	if err != nil {
		t.Fatalf("Callback as the same partner: %v", err)
	}
	if res.Connection.ID != c.ID || res.Connection.Subject != c.Subject || res.Connection.Version != c.Version+1 {
		t.Errorf("reauthorized = %s %s v%d, want %s %s v%d", res.Connection.ID, res.Connection.Subject, res.Connection.Version, c.ID, c.Subject, c.Version+1)
	}
	if kinds, _ := e.eventKinds(c.ID); len(kinds) != 3 || kinds[1] != "reauthorized" || kinds[2] != "revoked" {
		t.Errorf("events = %q, want [connected reauthorized revoked]", kinds)
	}
	if n := e.sb.Stats().Providers["pax8"].FamiliesRevoked - revoked; n != 2 {
		t.Errorf("families revoked = %d, want 2 (the refused grant, then the replaced one)", n)
	}
	if st, code := e.refreshDirectly(oldRefresh); st == http.StatusOK || code != "invalid_grant" {
		t.Errorf("the replaced refresh token at the sandbox = %d %q, want invalid_grant", st, code)
	}
	if _, err := e.b.Token(ctx, c.ID); err != nil {
		t.Errorf("Token after reauthorization: %v", err)
	}
}

// TestReauthorizeAllowsAccountChange: a link created with
// allow_account_change may come back with another account; the
// connection takes its subject and the event says so.
func TestReauthorizeAllowsAccountChange(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	if _, err := e.b.CreateLink(ctx, e.tenant, broker.LinkRequest{IntegrationID: e.integ.ID, AllowAccountChange: true}); broker.CodeOf(err) != broker.CodeInvalidRequest {
		t.Errorf("CreateLink(allow_account_change without connection_id) = %v, want invalid_request", err)
	}
	token, _ := e.linkToken(ctx, broker.LinkRequest{ConnectionID: c.ID, AllowAccountChange: true})
	browser, q := e.startAs(ctx, token, otherPartner)
	res, err := e.b.Callback(ctx, e.integ.ID, q, browser)
	if err != nil {
		t.Fatalf("Callback as another partner with a change allowed: %v", err)
	}
	got, err := e.st.GetConnection(ctx, c.ID)
	if err != nil || got.Subject == c.Subject || got.Email != otherPartner || res.Connection.ID != c.ID {
		t.Errorf("connection = %s %s, %v; want the other partner's account", got.Subject, got.Email, err)
	}
	es, _ := e.st.ListEvents(ctx, c.ID, 0)
	found := false
	for _, ev := range es {
		if ev.Kind == "reauthorized" && strings.Contains(ev.Detail, "account changed from "+c.Email+" to "+otherPartner) {
			found = true
		}
	}
	if !found {
		t.Errorf("no reauthorized event names the account change; events %+v", es)
	}
}
