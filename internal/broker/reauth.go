package broker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// errNoNotice tells UpdateConnection to write nothing: the notice is not
// due (any more) on the row as it is now.
var errNoNotice = errors.New("no reauth notice due")

// NoticeReauth sends a "reauth_due" event for each active connection whose
// grant reaches the end of its absolute lifetime (Pax8: one year) within
// one of thresholds (e.g. 30 and 7 days, RT-08), once per connection and
// threshold, and returns how many it sent. A grant first seen inside
// several thresholds gets one notice, for the nearest.
//
// Replicas may all call it: each notice moves the connection's
// ReauthNoticeAt forward in a version-checked update, and only the process
// whose update found the notice still due sends the event, so it is sent
// once across replicas and restarts. A connection whose refresh lease is
// held is left for a later call, so that the update never races a refresh
// in flight. A new consent resets the notices.
func (b *Broker) NoticeReauth(ctx context.Context, thresholds []time.Duration, limit int) (int, error) {
	ths := noticeThresholds(thresholds)
	if len(ths) == 0 {
		return 0, nil
	}
	now := b.now().UTC()
	due, err := b.st.DueForReauthNotice(ctx, now, now.Add(ths[0]), limit)
	if err != nil {
		return 0, fmt.Errorf("list grants due for a reauth notice: %w", err)
	}
	sent := 0
	for _, c := range due {
		if ctx.Err() != nil {
			break
		}
		nc, err := b.st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
			if cur.Status != store.StatusActive || (cur.LeaseOwner != "" && now.Before(cur.LeaseExpiresAt)) {
				return cur, errNoNotice
			}
			next, ok := nextReauthNotice(cur.RefreshExpiresAt, cur.ReauthNoticeAt, now, ths)
			if !ok {
				return cur, errNoNotice
			}
			cur.ReauthNoticeAt = next
			return cur, nil
		})
		switch {
		case errors.Is(err, errNoNotice), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
			continue // sent by another replica, refreshing, or gone
		case err != nil:
			b.log.WarnContext(ctx, "record reauth notice", "connection_id", c.ID, "err", err)
			continue
		}
		b.event(ctx, nc, "reauth_due", fmt.Sprintf("the grant ends %s; the tenant must consent again before then",
			nc.RefreshExpiresAt.UTC().Format(time.RFC3339)))
		sent++
	}
	return sent, nil
}

// noticeThresholds returns the positive thresholds, longest first, without
// duplicates.
func noticeThresholds(in []time.Duration) []time.Duration {
	var out []time.Duration
	for _, d := range in {
		if d > 0 && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return out
}

// nextReauthNotice decides whether a grant ending at end needs a notice at
// now, given noticeAt (when its next notice falls due; zero: none sent) and
// thresholds (longest first). When it does, it returns the new noticeAt:
// when the next, shorter, threshold is reached, or end itself after the
// last one.
func nextReauthNotice(end, noticeAt, now time.Time, thresholds []time.Duration) (time.Time, bool) {
	if end.IsZero() || !end.After(now) || noticeAt.After(now) {
		return time.Time{}, false
	}
	reached := -1 // the shortest threshold reached
	for i, d := range thresholds {
		if !now.Before(end.Add(-d)) {
			reached = i
		}
	}
	if reached < 0 {
		return time.Time{}, false
	}
	if reached+1 < len(thresholds) {
		return end.Add(-thresholds[reached+1]), true
	}
	return end, true
}
