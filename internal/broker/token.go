package broker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// Token is a valid access token for one connection. Its String and
// LogValue never print the token.
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

func (t Token) String() string { return "Token{" + t.ConnectionID + " REDACTED}" }

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
	t, err := b.shared(ctx, id, c.LastRefreshAt, false)
	if err != nil {
		b.metrics.tokenErrors.Inc()
		return Token{}, err
	}
	b.metrics.fromRefresh.Inc()
	return t, nil
}

// Refresh forces a refresh of connection id now, whether or not its access
// token is still valid, and returns the new token. Callers that arrive
// while a refresh is running share its result.
func (b *Broker) Refresh(ctx context.Context, id string) (Token, error) {
	c, err := b.getConnection(ctx, id)
	if err != nil {
		return Token{}, err
	}
	if err := usable(c); err != nil {
		return Token{}, err
	}
	return b.shared(ctx, id, c.LastRefreshAt, true)
}

// shared runs one refresh per connection in this process and lets every
// caller wait for it with its own context. The refresh itself runs without
// the caller's cancellation and with its own deadline, so one impatient
// caller cannot fail the others (STYLE rule 9).
func (b *Broker) shared(ctx context.Context, id string, seen time.Time, force bool) (Token, error) {
	key := id
	if force {
		key = "force:" + id
	}
	ch := b.flight.DoChan(key, func() (any, error) {
		b.running.start()
		defer b.running.end()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.LeaseTTL+b.opts.RefreshTimeout)
		defer cancel()
		return b.refresh(rctx, id, seen, force)
	})
	select {
	case <-ctx.Done():
		return Token{}, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return Token{}, r.Err
		}
		return r.Val.(Token), nil
	}
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
	return now.Add(b.opts.ExpiryMargin).Before(c.AccessExpiresAt)
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
		refreshAt = c.AccessExpiresAt.Add(-b.opts.ExpiryMargin)
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
