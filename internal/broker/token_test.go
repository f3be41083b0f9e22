package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
)

// concurrentTokens asks every broker for the token of id from n goroutines
// each, all released at once, and returns the distinct tokens and errors.
func concurrentTokens(t *testing.T, id string, n int, brokers ...*broker.Broker) (map[string]int, []error) {
	t.Helper()
	var (
		mu     sync.Mutex
		tokens = map[string]int{}
		errs   []error
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for _, b := range brokers {
		for range n {
			wg.Go(func() {
				<-start
				tok, err := b.Token(t.Context(), id)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				tokens[tok.AccessToken]++
			})
		}
	}
	close(start)
	wg.Wait()
	return tokens, errs
}

// TestTokenConcurrentOneReplica is RT-01: 100 goroutines, one expired
// token, exactly one refresh request, every caller served the same token.
func TestTokenConcurrentOneReplica(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t.Context())
	e.expire()

	tokens, errs := concurrentTokens(t, c.ID, 100, e.b)
	if len(errs) > 0 {
		t.Fatalf("%d callers failed, first: %v", len(errs), errs[0])
	}
	if len(tokens) != 1 {
		t.Errorf("callers got %d distinct tokens, want 1", len(tokens))
	}
	if got := e.tokenRequests("refresh_token"); got != 1 {
		t.Errorf("refresh requests = %d, want 1", got)
	}
	st := e.sb.Stats().Providers["pax8"]
	if st.RefreshReuseDetected != 0 {
		t.Errorf("reuse detected = %d, want 0", st.RefreshReuseDetected)
	}
	got, _ := e.st.GetConnection(t.Context(), c.ID)
	if got.Version != c.Version+1 {
		t.Errorf("version = %d, want %d", got.Version, c.Version+1)
	}
}

// TestTokenConcurrentReplicas is RT-02 with two replicas (two brokers, two
// database handles, distinct lease owners) of 100 callers each, on SQLite
// and on PostgreSQL.
func TestTokenConcurrentReplicas(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []envOption
	}{
		{"sqlite", nil},
		{"postgres", []envOption{withPostgres()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			c := e.connect(t.Context())
			other := e.newBrokerOn(e.open(), "replica-b", -1)
			for round := range 5 {
				e.expire()
				before := e.tokenRequests("refresh_token")
				tokens, errs := concurrentTokens(t, c.ID, 100, e.b, other)
				if len(errs) > 0 {
					t.Fatalf("round %d: %d callers failed, first: %v", round, len(errs), errs[0])
				}
				if len(tokens) != 1 {
					t.Errorf("round %d: %d distinct tokens, want 1", round, len(tokens))
				}
				if got := e.tokenRequests("refresh_token") - before; got != 1 {
					t.Errorf("round %d: refresh requests = %d, want 1", round, got)
				}
			}
			if n := e.sb.Stats().Providers["pax8"].RefreshReuseDetected; n != 0 {
				t.Errorf("reuse detected = %d, want 0", n)
			}
		})
	}
}

// TestRotationSoak is RT-03 and SEC-33: many rotations in sequence, each
// storing the newest refresh token, and the sandbox never sees a consumed
// one.
func TestRotationSoak(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t.Context())
	for i := range 200 {
		if _, err := e.b.Refresh(t.Context(), c.ID, ""); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	st := e.sb.Stats().Providers["pax8"]
	if st.RefreshReuseDetected != 0 || st.FamiliesRevoked != 0 {
		t.Errorf("reuse = %d, revoked = %d, want 0, 0", st.RefreshReuseDetected, st.FamiliesRevoked)
	}
	if got := e.tokenRequests("refresh_token"); got != 200 {
		t.Errorf("refresh requests = %d, want 200", got)
	}
	got, _ := e.st.GetConnection(t.Context(), c.ID)
	if got.Version != c.Version+200 || got.Status != store.StatusActive {
		t.Errorf("version %d status %s, want %d active", got.Version, got.Status, c.Version+200)
	}
}

// TestNoRotationKeepsRefreshToken is RT-07 and SEC-33: a provider that
// omits refresh_token leaves the stored one in place.
func TestNoRotationKeepsRefreshToken(t *testing.T) {
	s := strict()
	s.Rotation = false
	e := newEnv(t, withSettings(s))
	c := e.connect(t.Context())
	for i := range 3 {
		if _, err := e.b.Refresh(t.Context(), c.ID, ""); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	got, _ := e.st.GetConnection(t.Context(), c.ID)
	oldRT, _ := e.keys.Open(c.RefreshToken, "connection:"+c.ID+":refresh_token")
	newRT, _ := e.keys.Open(got.RefreshToken, "connection:"+c.ID+":refresh_token")
	if string(oldRT) != string(newRT) || len(newRT) == 0 {
		t.Error("refresh token changed although the provider did not rotate")
	}
}

// TestRotatedRefreshTokenReplacesOld is SEC-33: after a rotation the stored
// refresh token is the new one.
func TestRotatedRefreshTokenReplacesOld(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t.Context())
	if _, err := e.b.Refresh(t.Context(), c.ID, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.GetConnection(t.Context(), c.ID)
	aad := "connection:" + c.ID + ":refresh_token"
	oldRT, _ := e.keys.Open(c.RefreshToken, aad)
	newRT, _ := e.keys.Open(got.RefreshToken, aad)
	if string(oldRT) == string(newRT) {
		t.Fatal("refresh token was not replaced after rotation")
	}
}

// TestInvalidGrantNeedsReauth is SEC-35: a permanent invalid_grant marks
// the connection needs_reauth, records an event and stops sending.
func TestInvalidGrantNeedsReauth(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t.Context())
	if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: "invalid_grant", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	e.expire()
	_, err := e.b.Token(t.Context(), c.ID)
	if got := broker.CodeOf(err); got != broker.CodeNeedsReauth {
		t.Fatalf("Token after invalid_grant: code %q (%v), want needs_reauth", got, err)
	}
	got, _ := e.st.GetConnection(t.Context(), c.ID)
	if got.Status != store.StatusNeedsReauth {
		t.Errorf("status = %s, want needs_reauth", got.Status)
	}
	before := e.tokenRequests("refresh_token")
	for range 3 {
		if _, err := e.b.Token(t.Context(), c.ID); broker.CodeOf(err) != broker.CodeNeedsReauth {
			t.Errorf("Token = %v, want needs_reauth", err)
		}
	}
	if after := e.tokenRequests("refresh_token"); after != before {
		t.Errorf("refresh requests after needs_reauth = %d, want 0", after-before)
	}
	events, _ := e.st.ListEvents(t.Context(), c.ID, 10)
	if !hasEvent(events, "needs_reauth") {
		t.Errorf("events %v lack needs_reauth", events)
	}
}

// TestTransientFailureBacksOff: a 503 from the token endpoint (the request
// was not handled) leaves the connection active, records the failure and
// backs off instead of retrying at once; after the backoff the refresh
// succeeds with the same refresh token. An outage that answers 503 costs
// no grant.
func TestTransientFailureBacksOff(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t.Context())
	if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: "server_error", Status: http.StatusServiceUnavailable, GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	e.expire()
	_, err := e.b.Token(t.Context(), c.ID)
	if got := broker.CodeOf(err); got != broker.CodeUpstreamDown {
		t.Fatalf("Token during outage: code %q (%v), want upstream_unavailable", got, err)
	}
	got, _ := e.st.GetConnection(t.Context(), c.ID)
	if got.Status != store.StatusActive || got.FailureCount != 1 || got.NextAttemptAt.IsZero() {
		t.Errorf("after 503: status %s failures %d next %v, want active 1 set", got.Status, got.FailureCount, got.NextAttemptAt)
	}
	if got.RefreshAttempt != "" {
		t.Errorf("journal after a 503 = %q, want cleared (nothing was consumed)", got.RefreshAttempt)
	}
	before := e.tokenRequests("refresh_token")
	if _, err := e.b.Token(t.Context(), c.ID); broker.CodeOf(err) != broker.CodeUpstreamDown {
		t.Errorf("Token inside backoff = %v, want upstream_unavailable", err)
	}
	if n := e.tokenRequests("refresh_token") - before; n != 0 {
		t.Errorf("requests inside backoff = %d, want 0", n)
	}
	e.clk.Advance(time.Minute)
	if _, err := e.b.Token(t.Context(), c.ID); err != nil {
		t.Fatalf("Token after backoff: %v", err)
	}
	got, _ = e.st.GetConnection(t.Context(), c.ID)
	if got.FailureCount != 0 || got.LastError != "" {
		t.Errorf("after recovery: failures %d error %q, want 0 \"\"", got.FailureCount, got.LastError)
	}
}

// TestInactivityClock: each refresh pushes the idle deadline forward; a
// grant left unused past it is marked needs_reauth without sending the
// expired refresh token.
func TestInactivityClock(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t.Context())
	if want := c.ConnectedAt.Add(720 * time.Hour); !c.RefreshIdleExpiresAt.Equal(want) {
		t.Errorf("idle expiry %v, want %v", c.RefreshIdleExpiresAt, want)
	}
	e.clk.Advance(20 * 24 * time.Hour)
	if _, err := e.b.Refresh(t.Context(), c.ID, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.GetConnection(t.Context(), c.ID)
	if want := e.clk.Now().Add(720 * time.Hour); !got.RefreshIdleExpiresAt.Equal(want) {
		t.Errorf("idle expiry after use %v, want %v", got.RefreshIdleExpiresAt, want)
	}
	e.clk.Advance(31 * 24 * time.Hour)
	before := e.tokenRequests("refresh_token")
	if _, err := e.b.Token(t.Context(), c.ID); broker.CodeOf(err) != broker.CodeNeedsReauth {
		t.Fatalf("Token after idle expiry = %v, want needs_reauth", err)
	}
	if n := e.tokenRequests("refresh_token") - before; n != 0 {
		t.Errorf("sent %d refreshes with an idle-expired token, want 0", n)
	}
}

// TestStaleWorkerAdopts is RT-06: a worker whose refresh is refused with
// invalid_grant because the grant was replaced meanwhile (here by a
// reauthorization) re-reads, adopts the newer grant and does not mark the
// connection failed.
func TestStaleWorkerAdopts(t *testing.T) {
	e, g, c, done := heldRefresh(t)
	ctx := t.Context()
	// Meanwhile the tenant reauthorizes the same connection.
	f := e.begin(ctx, broker.LinkRequest{IntegrationID: e.integ.ID, ConnectionID: c.ID})
	if _, err := e.b.Callback(ctx, e.integ.ID, e.consent(ctx, f, true), f.browser); err != nil {
		t.Fatalf("reauthorize: %v", err)
	}
	g.release(`{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}`, 403)
	if err := <-done; err != nil {
		t.Fatalf("stale worker: %v, want the adopted token", err)
	}
	got, _ := e.st.GetConnection(ctx, c.ID)
	if got.Status != store.StatusActive {
		t.Errorf("status = %s, want active", got.Status)
	}
	events, _ := e.st.ListEvents(ctx, c.ID, 20)
	if hasEvent(events, "needs_reauth") {
		t.Error("connection was marked needs_reauth after a stale race")
	}
}

func hasEvent(es []store.Event, kind string) bool {
	for _, e := range es {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// bumpBeforeLease is the real store, making one bookkeeping write (as a
// failure count or a notice does) just before the first lease is taken.
type bumpBeforeLease struct {
	store.Store
	once sync.Once
}

func (s *bumpBeforeLease) AcquireLease(ctx context.Context, id, owner string, now, until time.Time) (store.Connection, bool, error) {
	s.once.Do(func() {
		s.Store.UpdateConnection(ctx, id, func(c store.Connection) (store.Connection, error) {
			c.LastError = "bookkeeping"
			return c, nil
		})
	})
	return s.Store.AcquireLease(ctx, id, owner, now, until)
}

// TestForcedRefreshNotSkippedByBookkeeping: a forced refresh (a 401 from
// the API) still refreshes when only bookkeeping changed the row's version
// after the caller read it; it is skipped only when another caller got a
// new token meanwhile.
func TestForcedRefreshNotSkippedByBookkeeping(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	before, _ := e.b.Token(ctx, c.ID)
	b := e.newBrokerOn(&bumpBeforeLease{Store: e.st}, "bumped", -1)
	after, err := b.Refresh(ctx, c.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessToken == before.AccessToken {
		t.Error("forced refresh returned the old token after a bookkeeping write")
	}
	if n := e.tokenRequests("refresh_token"); n != 1 {
		t.Errorf("refresh requests = %d, want 1", n)
	}
}

// TestLostRefreshResponse is RT-05: the provider rotates the refresh token
// but the answer is lost (a 500 after rotating, or a timeout after the
// request left). When the provider's reuse interval covers it, grantd
// backs off and replays the same token once, inside the interval, and the
// grant survives. With a strict provider (interval 0) it never replays a
// token that may be consumed: the connection is marked needs_reauth at
// once, the sandbox sees no reuse, and nothing is retried afterwards.
func TestLostRefreshResponse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    sandbox.Fault
		interval time.Duration
		want     store.Status
		requests int // refresh requests in all
	}{
		{"500 after rotating, reuse interval 60s", sandbox.Fault{Kind: "server_error_after"}, time.Minute, store.StatusActive, 2},
		{"500 after rotating, strict", sandbox.Fault{Kind: "server_error_after"}, 0, store.StatusNeedsReauth, 1},
		{"timeout after rotating, reuse interval 60s", sandbox.Fault{Kind: "slow_after", Delay: 4 * time.Second}, time.Minute, store.StatusActive, 2},
		{"timeout after rotating, strict", sandbox.Fault{Kind: "slow_after", Delay: 4 * time.Second}, 0, store.StatusNeedsReauth, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := strict()
			s.ReuseInterval = tc.interval
			e := newEnv(t, withSettings(s), withRefreshTimeout(2*time.Second), withProvider(func(p *provider.Provider) {
				p.RefreshToken.ReuseInterval = provider.Duration(tc.interval)
			}))
			ctx := t.Context()
			c := e.connect(ctx)
			f := tc.fault
			f.Provider, f.Endpoint, f.GrantType = "pax8", "token", "refresh_token"
			if err := e.sb.AddFault(f); err != nil {
				t.Fatal(err)
			}
			e.expire()
			_, err := e.b.Token(ctx, c.ID)
			got, _ := e.st.GetConnection(ctx, c.ID)
			if tc.want == store.StatusNeedsReauth {
				if broker.CodeOf(err) != broker.CodeNeedsReauth || got.Status != store.StatusNeedsReauth {
					t.Fatalf("Token when the answer is lost = %v, status %s; want needs_reauth", err, got.Status)
				}
			} else {
				if broker.CodeOf(err) != broker.CodeUpstreamDown || got.Status != store.StatusActive || got.RefreshAttempt == "" {
					t.Fatalf("Token when the answer is lost = %v, status %s, journal %q; want upstream_unavailable, active, kept", err, got.Status, got.RefreshAttempt)
				}
				e.clk.Advance(got.NextAttemptAt.Sub(e.clk.Now()) + time.Second)
				if _, err := e.b.Token(ctx, c.ID); err != nil {
					t.Fatalf("Token after the backoff = %v, want the replay to succeed", err)
				}
				if got, _ = e.st.GetConnection(ctx, c.ID); got.Status != store.StatusActive || got.RefreshAttempt != "" {
					t.Errorf("after the replay: status %s journal %q; want active, cleared", got.Status, got.RefreshAttempt)
				}
			}
			for range 3 {
				e.clk.Advance(time.Minute)
				e.b.Token(ctx, c.ID)
			}
			if n := e.settledTokenRequests("refresh_token", tc.requests); n != tc.requests {
				t.Errorf("refresh requests = %d, want %d", n, tc.requests)
			}
			st := e.sb.Stats().Providers["pax8"]
			if st.RefreshReuseDetected != 0 || st.FamiliesRevoked != 0 {
				t.Errorf("reuse detected %d, families revoked %d; want 0, 0", st.RefreshReuseDetected, st.FamiliesRevoked)
			}
		})
	}
}

// TestUnusableRefreshAnswerKeepsRotatedToken: the provider rotates the
// refresh token but its answer is unusable (a negative expires_in). grantd
// keeps the rotated refresh token, so the next refresh presents the new one
// and the sandbox sees no reuse; replaying the consumed token would make a
// strict provider revoke the whole grant.
func TestUnusableRefreshAnswerKeepsRotatedToken(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	before, _ := e.b.Token(ctx, c.ID)
	if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: "expires_in_negative", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.b.Refresh(ctx, c.ID, "")
	if err != nil || tok.AccessToken != before.AccessToken {
		t.Fatalf("Refresh with an unusable answer = %v; want the current, still valid token", err)
	}
	events, _ := e.st.ListEvents(ctx, c.ID, 10)
	if !hasEvent(events, "refresh_malformed") {
		t.Errorf("events %v lack refresh_malformed", events)
	}
	e.expire()
	if _, err := e.b.Token(ctx, c.ID); err != nil {
		t.Fatalf("Token after expiry = %v, want a refresh with the kept token", err)
	}
	st := e.sb.Stats().Providers["pax8"]
	if st.RefreshReuseDetected != 0 || st.FamiliesRevoked != 0 {
		t.Errorf("reuse detected %d, families revoked %d; want 0, 0", st.RefreshReuseDetected, st.FamiliesRevoked)
	}
	if got, _ := e.st.GetConnection(ctx, c.ID); got.Status != store.StatusActive {
		t.Errorf("status = %s, want active", got.Status)
	}
}

// TestBookkeepingDuringRefreshKeepsRotatedToken: a write that changes only
// bookkeeping (here LastError, as a failure count or a notice would) while
// a refresh is in flight bumps the row's version, but the grant is the same
// one the refresh started from, so the rotated refresh token is still
// stored rather than dropped as a conflict.
func TestBookkeepingDuringRefreshKeepsRotatedToken(t *testing.T) {
	e, g, c, done := heldRefresh(t)
	ctx := t.Context()
	if _, err := e.st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
		cur.LastError = "bookkeeping"
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	g.release(`{"access_token":"at-rotated","token_type":"Bearer","expires_in":86400,"refresh_token":"rt-rotated"}`, 200)
	if err := <-done; err != nil {
		t.Fatalf("Token = %v, want the refreshed token", err)
	}
	got, _ := e.st.GetConnection(ctx, c.ID)
	rt, err := e.keys.Open(got.RefreshToken, "connection:"+c.ID+":refresh_token")
	if err != nil || string(rt) != "rt-rotated" {
		t.Errorf("stored refresh token %q (%v), want the rotated one", rt, err)
	}
}

// TestClientErrorBacksOff: a refusal that is not about the grant (the
// vendor no longer accepts the client secret: 401 access_denied) leaves the
// connection active but backs off like a transient failure, so callers do
// not turn into a stream of doomed requests to the provider. The caller is
// told provider_rejected_credentials and the integration is marked broken.
func TestClientErrorBacksOff(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	e.sb.RegisterClient("pax8", sandbox.Client{ID: e.integ.ClientID, Secret: "rotated-at-the-vendor", RedirectURIs: []string{e.integ.RedirectURI}})
	e.expire()
	if _, err := e.b.Token(ctx, c.ID); broker.CodeOf(err) != broker.CodeRejectedCredentials {
		t.Fatalf("Token with a refused client = %v, want provider_rejected_credentials", err)
	}
	if in, _ := e.st.GetIntegration(ctx, e.integ.ID); in.BrokenAt.IsZero() {
		t.Errorf("integration not marked broken after its client was refused")
	}
	before := e.tokenRequests("refresh_token")
	for range 5 {
		if _, err := e.b.Token(ctx, c.ID); err == nil {
			t.Fatal("Token succeeded with a refused client")
		}
	}
	if n := e.tokenRequests("refresh_token") - before; n != 0 {
		t.Errorf("%d more refresh requests inside the backoff, want 0", n)
	}
	got, _ := e.st.GetConnection(ctx, c.ID)
	if got.Status != store.StatusActive || got.FailureCount != 1 || got.LastError == "" {
		t.Errorf("status %s failures %d error %q; want active, 1, set", got.Status, got.FailureCount, got.LastError)
	}
}

// TestLostAnswerOnGrantThatKeepsItsToken (RT-05): for a provider that may
// rotate (Pax8), grantd learns at the first refresh after consent whether
// this grant's refresh token is replaced. Before that, a lost answer is
// treated as if it were (strict: needs_reauth); once a refresh kept the
// token, nothing can be consumed, so a lost answer (a 500 after the
// provider processed the refresh) is an ordinary backoff and the retry
// with the same token succeeds. A grant seen to rotate stays journaled.
func TestLostAnswerOnGrantThatKeepsItsToken(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		t.Run(fmt.Sprintf("rotation=%v", rotate), func(t *testing.T) {
			s := strict()
			s.Rotation = rotate
			e := newEnv(t, withSettings(s))
			ctx := t.Context()
			c := e.connect(ctx)
			if c.ObservedRotation != store.RotationUnknown {
				t.Fatalf("after consent ObservedRotation = %q, want unknown", c.ObservedRotation)
			}
			if _, err := e.b.Refresh(ctx, c.ID, ""); err != nil {
				t.Fatal(err)
			}
			got, _ := e.st.GetConnection(ctx, c.ID)
			want := store.RotationKept
			if rotate {
				want = store.RotationRotates
			}
			if got.ObservedRotation != want {
				t.Fatalf("after a refresh ObservedRotation = %q, want %q", got.ObservedRotation, want)
			}
			if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: "server_error_after", GrantType: "refresh_token"}); err != nil {
				t.Fatal(err)
			}
			e.expire()
			_, err := e.b.Token(ctx, c.ID)
			got, _ = e.st.GetConnection(ctx, c.ID)
			if rotate {
				if broker.CodeOf(err) != broker.CodeNeedsReauth || got.Status != store.StatusNeedsReauth {
					t.Fatalf("rotating grant, lost answer: %v, status %s; want needs_reauth", err, got.Status)
				}
				return
			}
			if broker.CodeOf(err) != broker.CodeUpstreamDown || got.Status != store.StatusActive || got.RefreshAttempt != "" {
				t.Fatalf("grant that keeps its token, lost answer: %v, status %s, journal %q; want upstream_unavailable, active, none", err, got.Status, got.RefreshAttempt)
			}
			e.clk.Advance(time.Minute)
			if _, err := e.b.Token(ctx, c.ID); err != nil {
				t.Fatalf("retry after the backoff = %v, want a token", err)
			}
			if st := e.sb.Stats().Providers["pax8"]; st.RefreshReuseDetected != 0 {
				t.Errorf("reuse detected %d, want 0", st.RefreshReuseDetected)
			}
		})
	}
}
