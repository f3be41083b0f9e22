package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// The refresh journal is written ahead of every refresh request that may
// consume the stored refresh token (security checklist §3.3 step 4, RT-04,
// RT-05). Before the request leaves, the row records an attempt id and,
// for the first send of this refresh token, the time; the transaction
// that stores the answer clears it. An entry that outlives its lease is a
// refresh whose answer nobody stored: the provider may have rotated the
// token, and the rotated one is lost. grantd then sends the old token once
// more only when the provider's reuse interval (its rotation leeway) still
// covers it; otherwise it marks the connection needs_reauth and says why,
// rather than present a consumed token, which a strict provider answers by
// revoking the whole grant.

// journaled reports whether refreshing c with p may consume the stored
// refresh token, so the attempt must be journaled: always for a provider
// that rotates; for one that may, unless this grant's last refresh kept its
// token (the provider's client does not rotate), which grantd learns at
// the first refresh after each consent.
func journaled(p provider.Provider, c store.Connection) bool {
	if p.Grant != provider.AuthorizationCode {
		return false
	}
	switch p.RefreshToken.Rotation {
	case provider.RotationNever:
		return false
	case provider.RotationMaybe:
		return c.ObservedRotation != store.RotationKept
	}
	return true
}

// mayReplay reports whether the refresh token of c, whose last attempt's
// answer was lost, may be sent once more at now: only once, and only while
// the provider's reuse interval, counted from the token's first send,
// lasts.
func mayReplay(p provider.Provider, c store.Connection, now time.Time) bool {
	return c.RefreshReplays == 0 && replayWindow(p, c, now) > 0
}

// replayWindow is how much of p's reuse interval is left at now for
// sending c's journaled refresh token again, counted from its first send;
// 0 when none.
func replayWindow(p provider.Provider, c store.Connection, now time.Time) time.Duration {
	return max(0, p.RefreshToken.ReuseInterval.D()-now.Sub(c.RefreshStartedAt))
}

// beginAttempt commits the journal entry for a refresh about to be sent
// with c's refresh token, while this process holds the lease, and returns
// the row as written. A replay keeps the time of the first send.
//
// When the database is lost during the write, the entry may have been
// committed although the answer never came back; nothing has been sent,
// so the entry is withdrawn (fenced on its attempt id) once the database
// is back, or the next refresh would take this unsent attempt for a lost
// answer and give the grant up. The database being back, the refresh
// then goes on.
func (b *Broker) beginAttempt(ctx context.Context, c store.Connection, now time.Time) (store.Connection, error) {
	attempt := "att_" + rand.Text()
	nc, err := b.st.JournalRefresh(ctx, c.ID, b.owner, attempt, c.RefreshToken, now)
	if err == nil || !store.Unavailable(err) {
		return nc, err
	}
	werr := b.holding(ctx, c.ID, func() error {
		_, err := b.st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
			if cur.RefreshAttempt != attempt {
				return cur, store.ErrConflict // not written: nothing to withdraw
			}
			cur.RefreshAttempt, cur.RefreshStartedAt, cur.RefreshReplays = c.RefreshAttempt, c.RefreshStartedAt, c.RefreshReplays
			return cur, nil
		})
		return err
	})
	if werr != nil && !errors.Is(werr, store.ErrConflict) {
		b.log.ErrorContext(ctx, "withdraw unsent refresh attempt", "connection_id", c.ID, "attempt", attempt, "err", werr)
		return store.Connection{}, err
	}
	return b.st.JournalRefresh(ctx, c.ID, b.owner, "att_"+rand.Text(), c.RefreshToken, b.now())
}

// clearJournal empties c's refresh journal.
func clearJournal(c *store.Connection) {
	c.RefreshAttempt, c.RefreshStartedAt, c.RefreshReplays = "", time.Time{}, 0
}

// answerLost reports whether err leaves it unknown whether the provider
// processed the refresh: the request may have reached it and no answer
// was read (a timeout or a reset after it was written), or the provider
// failed while handling it (500, 502, 504). 503 and 429 say the request
// was not handled (RFC 9110 §15.6.4, RFC 6585 §4), and a refused
// connection never left: those are plain transient failures, retried
// with the same token, so an outage that answers 503 costs no grant.
func answerLost(err error) bool {
	if oauthx.IsSentUncertain(err) {
		return true
	}
	status := 0
	if te, ok := errors.AsType[*oauthx.TokenError](err); ok {
		status = te.Status
	} else if se, ok := errors.AsType[*oauthx.StatusError](err); ok {
		status = se.Status
	}
	return status >= http.StatusInternalServerError && status != http.StatusServiceUnavailable
}

// lostAnswer handles a journaled refresh of c whose answer was lost: it
// backs off, keeping the journal entry, so the next attempt replays the
// token when mayReplay allows; otherwise it marks the connection
// needs_reauth now.
func (b *Broker) lostAnswer(ctx context.Context, p provider.Provider, c store.Connection, cause error) (Token, error) {
	now := b.now()
	if mayReplay(p, c, now) {
		b.metrics.Refreshes.WithLabelValues(p.Name, "lost_answer_replay_due").Inc()
		nc := b.recordFailure(ctx, p, c, cause, now, false)
		if stillValid(nc, now) {
			return b.tokenFrom(nc, now)
		}
		return Token{}, errorf(CodeUpstreamDown, cause, "provider %s did not answer the refresh; it will be retried once", p.Name)
	}
	return b.abandonLostRefresh(ctx, p, c)
}

// abandonLostRefresh marks c needs_reauth because a refresh's answer was
// lost and its token may not be replayed. The journal entry stays, so the
// process that sent the refresh can still store the answer if it is alive
// after all (a stalled replica resuming): its write is fenced on the
// attempt id, not on the status.
func (b *Broker) abandonLostRefresh(ctx context.Context, p provider.Provider, c store.Connection) (Token, error) {
	b.metrics.Refreshes.WithLabelValues(p.Name, "lost_answer").Inc()
	reason := "a refresh may have reached the provider but its answer was lost, and the provider allows no reuse of the refresh token"
	if p.RefreshToken.ReuseInterval > 0 {
		reason = fmt.Sprintf("a refresh may have reached the provider but its answer was lost, and its reuse interval (%s) has passed", p.RefreshToken.ReuseInterval.D())
	}
	b.log.ErrorContext(ctx, "refresh answer lost; reauthorization needed", "connection_id", c.ID, "provider", p.Name,
		"attempt", c.RefreshAttempt, "first_sent", c.RefreshStartedAt, "replays", c.RefreshReplays)
	b.markNeedsReauth(ctx, c, reason)
	return Token{}, errorf(CodeNeedsReauth, nil, "connection %s needs reauthorization: %s", c.ID, reason)
}
