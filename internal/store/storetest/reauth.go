package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

// testDueForReauthNotice checks the query behind the notices sent before a
// grant's absolute lifetime ends (RT-08): active connections whose grant
// ends in (now, before] and whose next notice is due, soonest end first.
func testDueForReauthNotice(t *testing.T, s store.Store) {
	ctx := t.Context()
	const day = 24 * time.Hour
	now, before := at(0), at(30*day)
	conn := func(id string, ends time.Duration, notice time.Time, status store.Status) store.Connection {
		c := newConnection(id, "t1", 0)
		c.RefreshExpiresAt = at(ends)
		c.ReauthNoticeAt = notice
		c.Status = status
		return c
	}
	none := conn("no-absolute-lifetime", 0, time.Time{}, store.StatusActive)
	none.RefreshExpiresAt = time.Time{}
	mustCreate(t, s,
		conn("fresh", 20*day, time.Time{}, store.StatusActive),
		conn("soonest", 5*day, time.Time{}, store.StatusActive),
		conn("noticed", 20*day, at(13*day), store.StatusActive),
		conn("next-notice-due-now", 6*day, at(0), store.StatusActive),
		conn("at-cutoff", 30*day, time.Time{}, store.StatusActive),
		conn("beyond-cutoff", 30*day+time.Second, time.Time{}, store.StatusActive),
		conn("ends-now", 0, time.Time{}, store.StatusActive),
		conn("ended", -time.Hour, time.Time{}, store.StatusActive),
		conn("needs-reauth", 3*day, time.Time{}, store.StatusNeedsReauth),
		conn("revoked", 3*day, time.Time{}, store.StatusRevoked),
		none,
	)
	ids := func(limit int) []string {
		t.Helper()
		list, err := s.DueForReauthNotice(ctx, now, before, limit)
		if err != nil {
			t.Fatalf("DueForReauthNotice(limit %d) = %v", limit, err)
		}
		var got []string
		for _, c := range list {
			got = append(got, c.ID)
		}
		return got
	}
	want := []string{"soonest", "next-notice-due-now", "fresh", "at-cutoff"}
	if diff := cmp.Diff(want, ids(0), cmpOpts); diff != "" {
		t.Errorf("DueForReauthNotice (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:2], ids(2), cmpOpts); diff != "" {
		t.Errorf("DueForReauthNotice(limit 2) (-want +got):\n%s", diff)
	}
	// Moving the next notice past now takes a row out of the list.
	if _, err := s.UpdateConnection(ctx, "soonest", func(c store.Connection) (store.Connection, error) {
		c.ReauthNoticeAt = at(time.Second)
		return c, nil
	}); err != nil {
		t.Fatalf("UpdateConnection = %v", err)
	}
	if diff := cmp.Diff(want[1:], ids(0), cmpOpts); diff != "" {
		t.Errorf("DueForReauthNotice after a notice (-want +got):\n%s", diff)
	}
}
