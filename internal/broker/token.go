package broker

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// Token is a valid access token for one connection. Its String, GoString
// and LogValue never print the token.
type Token struct {
	ConnectionID  string
	TenantID      string
	IntegrationID string
	Provider      string
	AccessToken   string
	TokenType     string
	ExpiresAt     time.Time
	Scopes        []string
}

// String implements [fmt.Stringer] without the access token.
func (t Token) String() string { return "Token{" + t.ConnectionID + " REDACTED}" }

// GoString implements [fmt.GoStringer] (%#v) without the access token.
func (t Token) GoString() string {
	return "broker.Token{ConnectionID: " + strconv.Quote(t.ConnectionID) + ", AccessToken: REDACTED}"
}

// LogValue implements [slog.LogValuer].
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("connection_id", t.ConnectionID), slog.String("access_token", "REDACTED"))
}

// Token returns a valid access token for connection id, refreshing it when
// it is within ExpiryMargin of expiry. However many goroutines and replicas
// ask at once, at most one refresh request reaches the provider per expiry.
func (b *Broker) Token(ctx context.Context, id string) (Token, error) {
	return b.token(ctx, id, func(string, string) (bool, error) { return true, nil })
}

// TenantToken is Token for a caller acting as tenantID: another tenant's
// connection, or one made through an integration the tenant may no longer
// use (see [Broker.MayUse]), is reported as not found, whatever its
// status, and is neither refreshed nor otherwise touched (SEC-43).
func (b *Broker) TenantToken(ctx context.Context, tenantID, id string) (Token, error) {
	return b.token(ctx, id, func(owner, integrationID string) (bool, error) {
		return b.mayUseConnection(ctx, tenantID, owner, integrationID)
	})
}

// token is Token for a caller allowed to use the connections that mine
// accepts (given their tenant and integration); it checks before anything
// else happens.
func (b *Broker) token(ctx context.Context, id string, mine func(tenantID, integrationID string) (bool, error)) (Token, error) {
	now := b.now()
	if t, ok := b.cache.get(id, now); ok {
		if ok, err := mine(t.TenantID, t.IntegrationID); err != nil {
			return Token{}, err
		} else if !ok {
			return Token{}, errorf(CodeNotFound, nil, "connection %s not found", id)
		}
		b.metrics.fromCache.Inc()
		return t, nil
	}
	c, err := b.getConnection(ctx, id)
	if err != nil {
		return Token{}, err
	}
	if ok, err := mine(c.TenantID, c.IntegrationID); err != nil {
		return Token{}, err
	} else if !ok {
		return Token{}, errorf(CodeNotFound, nil, "connection %s not found", id)
	}
	if err := usable(c); err != nil {
		return Token{}, err
	}
	if b.fresh(c, now) {
		b.metrics.fromStore.Inc()
		return b.tokenFrom(c, now)
	}
	t, err := b.shared(ctx, id, ask{kind: askFresh})
	if err != nil {
		b.metrics.tokenErrors.Inc()
		return Token{}, err
	}
	b.metrics.fromRefresh.Inc()
	return t, nil
}

// Refresh forces a refresh of connection id, for a caller that saw the
// access token seen fail or wants a new one: the proxy and actions after
// the vendor answered 401 with seen, POST …/refresh with seen or "" (the
// token current now). The refresh is fenced on what the caller saw: when
// the stored token is no longer seen, another caller has refreshed
// meanwhile, and the newer token is returned without sending anything.
// Forced refreshes are throttled per connection (Options.MinForcedInterval):
// inside the window, the current token is returned together with an
// *Error of code CodeRefreshThrottled whose RetryAfter says when a forced
// refresh may go again. Callers that arrive while a refresh is running
// share its result.
func (b *Broker) Refresh(ctx context.Context, id, seen string) (Token, error) {
	c, err := b.getConnection(ctx, id)
	if err != nil {
		return Token{}, err
	}
	if err := usable(c); err != nil {
		return Token{}, err
	}
	if seen != "" {
		cur, err := b.open("connection", c.ID, "access_token", c.AccessToken)
		if err != nil {
			return Token{}, errorf(CodeInternal, err, "connection %s cannot be read", c.ID)
		}
		if subtle.ConstantTimeCompare([]byte(cur), []byte(seen)) != 1 && stillValid(c, b.now()) {
			// The vendor refused an older token: the stored one is newer.
			return b.tokenFrom(c, b.now())
		}
	}
	return b.shared(ctx, id, ask{kind: askForced, seen: c.AccessToken})
}

// RefreshClaimed refreshes connection c, which this process claimed for
// the background scheduler ([store.Store.ClaimDue] leased it to
// [Broker.Owner]). The refresh is fenced on the claimed row: it is sent
// only if the row is still due when re-read under the lease, so a row
// another caller refreshed meanwhile costs nothing.
func (b *Broker) RefreshClaimed(ctx context.Context, c store.Connection) error {
	_, err := b.shared(ctx, c.ID, ask{kind: askDue})
	return err
}

// askKind says why a refresh is asked for, and so when it is needed.
type askKind int

const (
	// askFresh: a caller needs a token that is not within the margin of
	// its expiry.
	askFresh askKind = iota
	// askDue: the scheduler claimed the row; refresh while it is due.
	askDue
	// askForced: refresh while the stored access token is still seen.
	askForced
)

// ask is what a refresh caller saw and wants.
type ask struct {
	kind askKind
	// seen is the sealed access token a forced refresh was asked about.
	seen store.Sealed
}

// key names the single flight of a: callers asking the same thing of one
// connection share one refresh.
func (a ask) key(id string) string {
	switch a.kind {
	case askDue:
		return "due:" + id
	case askForced:
		sum := sha256.Sum256(a.seen)
		return "force:" + id + ":" + hex.EncodeToString(sum[:8])
	}
	return id
}

// shared runs one refresh per connection and ask in this process and lets
// every caller wait for it with its own context. The refresh itself runs
// without the caller's cancellation and with its own deadline, so one
// impatient caller cannot fail the others (STYLE rule 9).
func (b *Broker) shared(ctx context.Context, id string, a ask) (Token, error) {
	ch := b.flight.DoChan(a.key(id), func() (any, error) {
		b.running.start()
		defer b.running.end()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.LeaseTTL+b.opts.RefreshTimeout)
		defer cancel()
		t, err := b.refresh(rctx, id, a)
		return result{t, err}, nil
	})
	select {
	case <-ctx.Done():
		return Token{}, ctx.Err()
	case r := <-ch:
		res := r.Val.(result)
		return res.tok, res.err
	}
}

// result carries a token and an error together through the single flight,
// which drops the value when the error is set: a throttled forced refresh
// returns both.
type result struct {
	tok Token
	err error
}

// fresh reports whether c's access token can be handed out without a
// refresh.
func (b *Broker) fresh(c store.Connection, now time.Time) bool {
	if len(c.AccessToken) == 0 {
		return false
	}
	if c.AccessExpiresAt.IsZero() {
		return true
	}
	return now.Add(b.connMargin(c)).Before(c.AccessExpiresAt)
}

// stillValid reports whether c's access token has not yet expired, margin
// or not: it may be handed out when a refresh fails transiently.
func stillValid(c store.Connection, now time.Time) bool {
	return len(c.AccessToken) > 0 && (c.AccessExpiresAt.IsZero() || now.Before(c.AccessExpiresAt))
}

func usable(c store.Connection) error {
	switch c.Status {
	case store.StatusActive:
		return nil
	case store.StatusRevoked:
		return errorf(CodeRevoked, nil, "connection %s was revoked", c.ID)
	default:
		return errorf(CodeNeedsReauth, nil, "connection %s needs reauthorization", c.ID)
	}
}

func (b *Broker) tokenFrom(c store.Connection, now time.Time) (Token, error) {
	at, err := b.open("connection", c.ID, "access_token", c.AccessToken)
	if err != nil {
		return Token{}, errorf(CodeInternal, err, "connection %s cannot be read", c.ID)
	}
	t := Token{
		ConnectionID:  c.ID,
		TenantID:      c.TenantID,
		IntegrationID: c.IntegrationID,
		Provider:      c.Provider,
		AccessToken:   at,
		TokenType:     c.TokenType,
		ExpiresAt:     c.AccessExpiresAt,
		Scopes:        c.Scopes,
	}
	var refreshAt time.Time
	if !c.AccessExpiresAt.IsZero() {
		refreshAt = c.AccessExpiresAt.Add(-b.connMargin(c))
	}
	b.cache.put(t, now, refreshAt)
	return t, nil
}

func (b *Broker) getConnection(ctx context.Context, id string) (store.Connection, error) {
	c, err := b.st.GetConnection(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, errorf(CodeNotFound, err, "connection %s not found", id)
	}
	if err != nil {
		return c, errorf(CodeInternal, err, "connection %s cannot be read", id)
	}
	return c, nil
}
