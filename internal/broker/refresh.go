package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptrace"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/failpoint"
	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/retry"
	"github.com/grantd/grantd/internal/store"
)

// refresh obtains a fresh access token for connection id across replicas:
//
//  0. wait for any other refresh of id in this process (see keyLock);
//  1. take the lease on the row (AcquireLease; the scheduler's claim
//     already holds it). Another owner's unexpired lease means a refresh
//     is running elsewhere: wait for its result by re-reading, and take
//     over only if the lease lapses;
//  2. with the lease, re-read and check the fence of a: if the grant has
//     moved on since the caller looked (the token became fresh, the row is
//     no longer due, the access token a forced refresh was asked about was
//     replaced), adopt it and send nothing;
//  3. send the refresh request through the provider's gate, then store
//     the new access and refresh tokens and clear the lease in one
//     transaction that checks the grant is still the one refreshed
//     (sameGrant), before returning anything.
func (b *Broker) refresh(ctx context.Context, id string, a ask) (Token, error) {
	// A forced and an ordinary refresh of one connection are two flights
	// under one lease owner: run them one after the other, so the second
	// re-reads the grant the first stored instead of sending the same
	// refresh token again.
	if err := b.refreshing.lock(ctx, id); err != nil {
		return Token{}, errorf(CodeUpstreamDown, err, "refresh of connection %s did not finish in time", id)
	}
	defer b.refreshing.unlock(id)
	wait := 5 * time.Millisecond
	for {
		now := b.now()
		c, owned, err := b.st.AcquireLease(ctx, id, b.owner, now, now.Add(b.opts.LeaseTTL))
		if errors.Is(err, store.ErrNotFound) {
			return Token{}, errorf(CodeNotFound, err, "connection %s not found", id)
		}
		if err != nil {
			return Token{}, errorf(CodeInternal, err, "connection %s cannot be locked", id)
		}
		if err := usable(c); err != nil {
			if owned {
				b.release(ctx, id)
			}
			return Token{}, err
		}
		p, err := b.provider(c.Provider)
		if err != nil {
			if owned {
				b.release(ctx, id)
			}
			return Token{}, err
		}
		if b.settled(p, c, a, now) {
			if owned {
				b.release(ctx, id)
			}
			return b.tokenFrom(c, now)
		}
		if owned {
			if a.kind == askForced {
				if left := b.forcedTooSoon(c, now); left > 0 && stillValid(c, now) {
					b.release(ctx, id)
					t, err := b.tokenFrom(c, now)
					if err != nil {
						return Token{}, err
					}
					b.metrics.Refreshes.WithLabelValues(p.Name, "throttled").Inc()
					return t, &Error{Code: CodeRefreshThrottled, Msg: fmt.Sprintf("connection %s was refreshed %s ago; a forced refresh may go again in %s", id, now.Sub(c.LastRefreshAt).Round(time.Second), left.Round(time.Second)), RetryAfter: left}
				}
			}
			return b.refreshOwned(ctx, p, c, now)
		}
		// Someone else holds the lease: wait for their result.
		select {
		case <-ctx.Done():
			return Token{}, errorf(CodeUpstreamDown, ctx.Err(), "refresh of connection %s did not finish in time", id)
		case <-time.After(wait):
		}
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// settled reports whether the grant c already answers what a asked for,
// so nothing needs to be sent.
func (b *Broker) settled(p provider.Provider, c store.Connection, a ask, now time.Time) bool {
	switch a.kind {
	case askDue:
		return !b.due(p, c, now)
	case askForced:
		return !bytes.Equal(c.AccessToken, a.seen) && stillValid(c, now)
	}
	return b.fresh(c, now)
}

// forcedTooSoon returns how long a forced refresh of c must still wait at
// now (Options.MinForcedInterval after the last refresh), or 0. The
// tokens of a consent are not a refresh: the first forced refresh after
// it may go at once.
func (b *Broker) forcedTooSoon(c store.Connection, now time.Time) time.Duration {
	if b.opts.MinForcedInterval <= 0 || c.LastRefreshAt.IsZero() || c.LastRefreshAt.Equal(c.ConnectedAt) {
		return 0
	}
	return max(0, c.LastRefreshAt.Add(b.opts.MinForcedInterval).Sub(now))
}

func (b *Broker) release(ctx context.Context, id string) {
	if err := b.st.ReleaseLease(ctx, id, b.owner); err != nil {
		b.log.WarnContext(ctx, "release refresh lease", "connection_id", id, "err", err)
	}
}

// refreshOwned runs the refresh while this process holds c's lease.
func (b *Broker) refreshOwned(ctx context.Context, p provider.Provider, c store.Connection, now time.Time) (Token, error) {
	if reason := unrefreshable(p, c, now); reason != "" {
		b.markNeedsReauth(ctx, c, reason)
		return Token{}, errorf(CodeNeedsReauth, nil, "connection %s needs reauthorization: %s", c.ID, reason)
	}
	journal := journaled(p, c)
	if journal && c.RefreshAttempt != "" && !mayReplay(p, c, now) {
		// An earlier refresh of this token was interrupted after it may
		// have reached the provider (RT-04).
		return b.abandonLostRefresh(ctx, p, c)
	}
	if !c.NextAttemptAt.IsZero() && now.Before(c.NextAttemptAt) {
		b.release(ctx, c.ID)
		if stillValid(c, now) {
			return b.tokenFrom(c, now)
		}
		return Token{}, errorf(CodeUpstreamDown, nil, "the last refresh with %s failed (%s); next attempt at %s", p.Name, c.LastError, c.NextAttemptAt.UTC().Format(time.RFC3339))
	}
	req, err := b.refreshRequest(ctx, p, c)
	if err != nil {
		b.release(ctx, c.ID)
		return Token{}, err
	}
	g := b.gate(p)
	if err := b.admit(ctx, p, g); err != nil {
		return b.notSent(ctx, p, c, err)
	}

	failpoint.Hit(failpoint.RefreshBeforeJournal)
	if journal {
		nc, err := b.beginAttempt(ctx, c, now)
		if err != nil {
			g.unprobe()
			b.release(ctx, c.ID)
			return Token{}, errorf(CodeInternal, err, "connection %s could not be updated", c.ID)
		}
		c = nc
	}
	failpoint.Hit(failpoint.RefreshBeforeSend)

	rctx, cancel := context.WithTimeout(ctx, b.opts.RefreshTimeout)
	if failpoint.Armed() {
		// After the request's bytes reached the socket (WroteRequest
		// fires before the transport flushes them).
		rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { failpoint.ArmAfterWrite(info.Conn, failpoint.RefreshAfterSend) },
		})
	}
	start := time.Now()
	tok, err := oauthx.Do(rctx, b.hc, b.now, req)
	cancel()
	b.settle(p, g, err)
	if err == nil {
		failpoint.Hit(failpoint.RefreshAfterReceive)
	}
	b.metrics.RefreshTime.WithLabelValues(p.Name).Observe(time.Since(start).Seconds())
	// The provider has answered and may have retired the refresh token just
	// sent: record the outcome (new tokens, a rotated token in an unusable
	// answer, a failure) whatever is left of ctx, which may be little after
	// a wait for another replica's lease.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.LeaseTTL)
	defer cancel()
	if err != nil {
		return b.refreshFailed(sctx, p, c, err)
	}
	// The grant is kept whatever the audience (the answer may have
	// rotated the refresh token), but a provider that starts answering
	// for another API is not silent (SEC-12).
	for _, want := range []string{req.Params["audience"], p.Resource} {
		if aerr := checkAccessAudience(tok.AccessToken, want); aerr != nil {
			b.log.WarnContext(sctx, "refreshed access token is for another audience", "provider", p.Name, "connection_id", c.ID, "err", aerr)
		}
	}
	nc, err := b.storeRefreshed(sctx, p, c, tok, rotated(req, tok))
	if err != nil {
		if CodeOf(err) != CodeIDToken {
			b.metrics.Refreshes.WithLabelValues(p.Name, "store_error").Inc()
		}
		return Token{}, err
	}
	b.metrics.Refreshes.WithLabelValues(p.Name, "ok").Inc()
	b.markWorking(sctx, c.IntegrationID)
	b.event(sctx, nc, "refreshed", "")
	return b.tokenFrom(nc, b.now())
}

func (b *Broker) refreshRequest(ctx context.Context, p provider.Provider, c store.Connection) (oauthx.Request, error) {
	in, err := b.st.GetIntegration(ctx, c.IntegrationID)
	if err != nil {
		return oauthx.Request{}, errorf(CodeInternal, err, "integration of connection %s cannot be read", c.ID)
	}
	b.noteIntegration(in)
	return b.requestFor(p, in, c)
}

// requestFor builds the token request that renews c's tokens with
// integration in's credentials.
func (b *Broker) requestFor(p provider.Provider, in store.Integration, c store.Connection) (oauthx.Request, error) {
	secret, err := b.open("integration", in.ID, "client_secret", in.ClientSecret)
	if err != nil {
		return oauthx.Request{}, errorf(CodeInternal, err, "integration %s cannot be read", in.ID)
	}
	req := oauthx.Request{
		TokenURL:     p.TokenURL,
		Encoding:     p.TokenEncoding,
		ClientAuth:   p.ClientAuth,
		ClientID:     in.ClientID,
		ClientSecret: secret,
		Params:       tokenParams(p),
	}
	switch p.Grant {
	case provider.AuthorizationCode:
		rt, err := b.open("connection", c.ID, "refresh_token", c.RefreshToken)
		if err != nil {
			return oauthx.Request{}, errorf(CodeInternal, err, "connection %s cannot be read", c.ID)
		}
		if rt == "" {
			return oauthx.Request{}, errorf(CodeNeedsReauth, nil, "connection %s has no refresh token (was %s granted?)", c.ID, p.RefreshToken.RequiresScope)
		}
		req.Params["grant_type"] = "refresh_token"
		req.Params["refresh_token"] = rt
	case provider.ClientCredentials:
		// RFC 6749 §4.4: no refresh token; a new token is requested when
		// the current one expires, one per audience (seeds/001).
		req.Params["grant_type"] = "client_credentials"
		if in.Audience != "" {
			req.Params["audience"] = in.Audience
		}
	case provider.PartnerRefreshBearer:
		// Daxko (seeds/004): the partner's long-lived refresh token as
		// bearer, username and password as client_id and client_secret,
		// and the connection's client as scope. The partner token is
		// never replaced, so many connections share it safely.
		pt, err := b.open("integration", in.ID, "partner_token", in.PartnerToken)
		if err != nil {
			return oauthx.Request{}, errorf(CodeInternal, err, "integration %s cannot be read", in.ID)
		}
		if pt == "" {
			return oauthx.Request{}, errorf(CodeUpstream, nil, "integration %s has no partner token; set partner_token_env or partner_token_file", in.ID)
		}
		req.Bearer = pt
		req.Params["grant_type"] = "client_credentials"
		if len(c.Scopes) > 0 {
			req.Params["scope"] = strings.Join(c.Scopes, " ")
		}
	default:
		return oauthx.Request{}, errorf(CodeUnsupportedGrant, nil, "provider %s uses grant %s, which connections do not support yet", p.Name, p.Grant)
	}
	return req, nil
}

// refreshFailed classifies a failed refresh. invalid_grant is not proof of
// revocation: re-read first, and adopt a newer grant written by someone else
// (RT-06). Transient failures back off and never change the status.
func (b *Broker) refreshFailed(ctx context.Context, p provider.Provider, c store.Connection, err error) (Token, error) {
	now := b.now()
	switch {
	case oauthx.IsInvalidGrant(err):
		cur, gerr := b.st.GetConnection(ctx, c.ID)
		if gerr == nil && !sameGrant(cur, c) && cur.Status == store.StatusActive && stillValid(cur, now) {
			b.metrics.Refreshes.WithLabelValues(p.Name, "adopted").Inc()
			b.release(ctx, c.ID)
			return b.tokenFrom(cur, now)
		}
		b.metrics.Refreshes.WithLabelValues(p.Name, "invalid_grant").Inc()
		b.markNeedsReauth(ctx, c, "the provider refused the refresh token (invalid_grant)")
		return Token{}, errorf(CodeNeedsReauth, err, "connection %s needs reauthorization: the provider refused its refresh token", c.ID)
	case rotatedInBadResponse(err) != "":
		return b.keepRotatedRefreshToken(ctx, p, c, rotatedInBadResponse(err), err)
	case journaled(p, c) && answerLost(err):
		return b.lostAnswer(ctx, p, c, err)
	case oauthx.IsTransient(err):
		b.metrics.Refreshes.WithLabelValues(p.Name, "transient").Inc()
		nc := b.recordFailure(ctx, p, c, err, now, true)
		if stillValid(nc, now) {
			return b.tokenFrom(nc, now)
		}
		return Token{}, errorf(CodeUpstreamDown, err, "provider %s is unavailable; try again later", p.Name)
	default:
		// Not about the grant (a refused client, an unusable answer): the
		// status stays, but the same backoff applies, so callers do not
		// become a stream of doomed requests.
		b.metrics.Refreshes.WithLabelValues(p.Name, "error").Inc()
		b.log.ErrorContext(ctx, "refresh failed", "connection_id", c.ID, "provider", p.Name, "err", err)
		reason, refused := credentialsRefused(err)
		if refused && breaksIntegration(p, err) {
			b.markBroken(ctx, c.IntegrationID, reason)
		}
		nc := b.recordFailure(ctx, p, c, err, now, true)
		if stillValid(nc, now) {
			return b.tokenFrom(nc, now)
		}
		if refused {
			return Token{}, errorf(CodeRejectedCredentials, err,
				"%s refused the client credentials of integration %s (%s); the integration's client id or secret must be corrected", p.DisplayName, c.IntegrationID, reason)
		}
		return Token{}, errorf(CodeUpstream, err, "provider %s refused the refresh", p.Name)
	}
}

// recordFailure counts a failed refresh, schedules the next attempt after a
// growing backoff and clears the lease, leaving the status alone. It
// returns the row as written, or c when the grant changed meanwhile.
//
// answered says the provider's answer is known, so the attempt consumed
// nothing: its journal entry is withdrawn (a replay's, back to the lost
// send it replayed). Otherwise the entry stays, for the next attempt to
// replay within the reuse interval.
func (b *Broker) recordFailure(ctx context.Context, p provider.Provider, c store.Connection, cause error, now time.Time, answered bool) store.Connection {
	nc, err := b.st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
		if !sameGrant(cur, c) {
			return cur, store.ErrConflict
		}
		delay := backoff(cur.FailureCount+1, cause)
		switch {
		case answered && cur.RefreshReplays > 0:
			cur.RefreshReplays--
		case answered:
			clearJournal(&cur)
		}
		if cur.RefreshAttempt != "" {
			// A replay must reach the provider inside its reuse interval.
			if left := replayWindow(p, cur, now); left > 0 {
				delay = min(delay, left/2)
			}
		}
		cur.FailureCount++
		cur.NextAttemptAt = now.Add(delay)
		cur.LastError = safeMessage(cause)
		cur.LeaseOwner, cur.LeaseExpiresAt = "", time.Time{}
		return cur, nil
	})
	if err != nil {
		b.release(ctx, c.ID)
		return c
	}
	return nc
}

// storeRefreshed writes the refreshed grant: the new access token and, when
// the provider rotated it, the new refresh token, sealed, in one
// transaction that also checks nobody else wrote since c was read and
// clears the lease.
func (b *Broker) storeRefreshed(ctx context.Context, p provider.Provider, c store.Connection, tok *oauthx.Token, seen store.ObservedRotation) (store.Connection, error) {
	now := b.now().UTC()
	g, err := b.newGrant(ctx, p, c.ID, tok, now)
	if err != nil {
		b.release(ctx, c.ID)
		return store.Connection{}, err
	}
	b.dropUnexpectedRefreshToken(ctx, p, &g)
	if g.idToken != "" && len(c.IDToken) > 0 {
		if err := b.checkRefreshedIDToken(ctx, p, c, g); errors.Is(err, oauthx.ErrInvalidIDToken) {
			return store.Connection{}, b.rejectRefreshed(ctx, p, c, g, err)
		} else if err != nil {
			// grantd could not run the check (its store or vault): the
			// answer came straight from the token endpoint and the
			// refresh token sent is spent, so keep it rather than lose
			// the grant over a local fault.
			b.metrics.Refreshes.WithLabelValues(p.Name, "id_token_unverified").Inc()
			b.log.ErrorContext(ctx, "refreshed id_token not checked: a local failure; keeping tokens from the token endpoint", "connection_id", c.ID, "err", err)
		}
	}
	update := func(cur store.Connection) (store.Connection, error) {
		if !b.stillOurs(cur, c) {
			return cur, fmt.Errorf("connection's grant changed during refresh (version %d, now %d): %w", c.Version, cur.Version, store.ErrConflict)
		}
		g.apply(&cur, p, now)
		cur.ObservedRotation = seen
		// A journaled refresh whose answer arrives after another replica
		// gave it up for lost (needs_reauth) still holds the newest grant.
		cur.Status = store.StatusActive
		if cur.LeaseOwner == b.owner {
			cur.LeaseOwner, cur.LeaseExpiresAt = "", time.Time{}
		}
		return cur, nil
	}
	var nc store.Connection
	err = b.holding(ctx, c.ID, func() (err error) {
		nc, err = b.st.UpdateConnection(ctx, c.ID, update)
		return err
	})
	if err != nil {
		// The provider may have rotated the refresh token we could not
		// store: another attempt replaced ours after our lease lapsed
		// (LeaseTTL > RefreshTimeout makes that rare); say so loudly.
		b.log.ErrorContext(ctx, "store refreshed grant", "connection_id", c.ID, "err", err)
		return store.Connection{}, errorf(CodeInternal, err, "connection %s could not be updated", c.ID)
	}
	return nc, nil
}

// holding runs op, a store call that must not be lost after the provider
// answered a refresh (the answer may hold a rotated refresh token that
// exists nowhere else), again while the database cannot be reached
// (restarting), for as long as ctx (the lease's time) allows.
func (b *Broker) holding(ctx context.Context, id string, op func() error) error {
	err := op()
	for wait := 50 * time.Millisecond; err != nil && store.Unavailable(err) && ctx.Err() == nil; wait = min(2*wait, time.Second) {
		b.log.WarnContext(ctx, "refresh answered but the database is unavailable; retrying", "connection_id", id, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		err = op()
	}
	return err
}

func (b *Broker) markNeedsReauth(ctx context.Context, c store.Connection, reason string) {
	nc, err := b.st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
		if !sameGrant(cur, c) {
			return cur, store.ErrConflict
		}
		cur.Status = store.StatusNeedsReauth
		cur.LastError = reason
		cur.LeaseOwner, cur.LeaseExpiresAt = "", time.Time{}
		return cur, nil
	})
	b.cache.drop(c.ID)
	if err != nil {
		b.release(ctx, c.ID)
		b.log.WarnContext(ctx, "mark needs_reauth", "connection_id", c.ID, "err", err)
		return
	}
	b.event(ctx, nc, "needs_reauth", reason)
}

// unrefreshable says why c's grant can no longer be refreshed without
// sending anything, or "" when it may: a refresh-token grant that holds
// no refresh token, or one past its absolute or inactivity lifetime.
func unrefreshable(p provider.Provider, c store.Connection, now time.Time) string {
	switch {
	case p.Grant == provider.AuthorizationCode && len(c.RefreshToken) == 0:
		reason := "the provider issued no refresh token, so the grant cannot be kept alive"
		if s := p.RefreshToken.RequiresScope; s != "" {
			reason += " (was " + s + " granted?)"
		}
		return reason
	case !c.RefreshExpiresAt.IsZero() && !now.Before(c.RefreshExpiresAt):
		return "the grant reached its absolute lifetime"
	case !c.RefreshIdleExpiresAt.IsZero() && !now.Before(c.RefreshIdleExpiresAt):
		return "the refresh token expired after inactivity"
	}
	return ""
}

// refreshBackoff is the delay before the n-th retry after a transient
// failure: 5 s doubling up to 10 min, jittered by up to a fifth so that
// the rows of one provider outage do not all fall due together again.
var refreshBackoff = retry.Backoff{Base: 5 * time.Second, Max: 10 * time.Minute, Jitter: 0.2}

// backoff is the delay before the n-th retry after cause: the schedule,
// or longer when the provider asked for it with Retry-After.
func backoff(n int, cause error) time.Duration {
	d := refreshBackoff.Delay(n)
	if te, ok := errors.AsType[*oauthx.TokenError](cause); ok && te.RetryAfter > d {
		d = min(te.RetryAfter, time.Hour)
	}
	return d
}

// safeMessage is an error description fit for storage and clients: the
// oauthx error messages never carry tokens or response bodies.
func safeMessage(err error) string {
	if te, ok := errors.AsType[*oauthx.TokenError](err); ok {
		return te.Error()
	}
	if mr, ok := errors.AsType[*oauthx.MalformedResponse](err); ok {
		return mr.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "network error"
}

// rotatedInBadResponse returns the refresh token a provider rotated in a
// 2xx response grantd cannot otherwise use, or "".
func rotatedInBadResponse(err error) string {
	if mr, ok := errors.AsType[*oauthx.MalformedResponse](err); ok {
		return mr.RefreshToken
	}
	return ""
}

// keepRotatedRefreshToken stores the refresh token from an unusable 2xx
// response. The provider has consumed the old one; replaying it would be a
// reuse and, with a strict provider, cost the whole grant. The unusable
// access token is not stored: the current one is kept and, once it expires,
// the next refresh uses the token kept here.
func (b *Broker) keepRotatedRefreshToken(ctx context.Context, p provider.Provider, c store.Connection, rt string, cause error) (Token, error) {
	b.metrics.Refreshes.WithLabelValues(p.Name, "malformed").Inc()
	now := b.now()
	sealed, err := b.seal("connection", c.ID, "refresh_token", rt)
	if err == nil {
		var nc store.Connection
		nc, err = b.st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
			if !b.stillOurs(cur, c) {
				return cur, store.ErrConflict
			}
			cur.RefreshToken = sealed
			cur.ObservedRotation = store.RotationRotates
			clearJournal(&cur)
			if cur.LeaseOwner == b.owner {
				cur.LeaseOwner, cur.LeaseExpiresAt = "", time.Time{}
			}
			cur.LastError = safeMessage(cause)
			return cur, nil
		})
		if err == nil {
			b.event(ctx, nc, "refresh_malformed", "the provider's answer was unusable; its rotated refresh token was kept")
			if stillValid(nc, now) {
				return b.tokenFrom(nc, now)
			}
			return Token{}, errorf(CodeUpstream, cause, "provider %s answered the refresh with an unusable token", p.Name)
		}
	}
	b.release(ctx, c.ID)
	b.log.ErrorContext(ctx, "keep rotated refresh token", "connection_id", c.ID, "err", err)
	return Token{}, errorf(CodeInternal, err, "connection %s could not be updated", c.ID)
}

// rotated says what the provider did with the refresh token req sent, by
// the answer tok: replaced it, or kept it (no refresh_token, or the same
// one, RFC 6749 §6). For grants without a refresh token it is unknown.
func rotated(req oauthx.Request, tok *oauthx.Token) store.ObservedRotation {
	sent := req.Params["refresh_token"]
	switch {
	case req.Params["grant_type"] != "refresh_token" || sent == "":
		return store.RotationUnknown
	case tok.RefreshToken != "" && tok.RefreshToken != sent:
		return store.RotationRotates
	}
	return store.RotationKept
}

// stillOurs reports whether the refresh that started from c may store its
// answer over cur. A journaled refresh is fenced on its attempt id and the
// refresh token it sent: no other refresh or reauthorization happened,
// even if its lease lapsed or another replica gave it up for lost. Any
// other refresh needs the same grant and its lease.
func (b *Broker) stillOurs(cur, c store.Connection) bool {
	if c.RefreshAttempt != "" {
		return cur.RefreshAttempt == c.RefreshAttempt && bytes.Equal(cur.RefreshToken, c.RefreshToken) && cur.Status != store.StatusRevoked
	}
	return sameGrant(cur, c) && cur.LeaseOwner == b.owner
}

// sameGrant reports whether cur still holds the grant a refresh started
// from: the same sealed tokens and status. Bookkeeping writes (failure
// counts, reauth notices, LastError) bump the version but leave the grant
// alone, and must not make a refresh drop the token the provider rotated;
// a reauthorization replaces the tokens and so is a conflict.
func sameGrant(cur, c store.Connection) bool {
	return cur.Status == c.Status && bytes.Equal(cur.RefreshToken, c.RefreshToken) && bytes.Equal(cur.AccessToken, c.AccessToken)
}
