package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// testRefreshJournal checks that the refresh journal round-trips through
// CreateConnection and UpdateConnection (RT-04). Interrupted refreshes
// are found by the schedule: the broker makes a journaled row due at once,
// and ClaimDue takes it once its lease lapses (see testClaimDue).
func testRefreshJournal(t *testing.T, s store.Store) {
	ctx := t.Context()
	withAttempt := func(id string, started time.Duration) store.Connection {
		c := newConnection(id, "t1", 0)
		c.RefreshAttempt = "att_" + id
		c.RefreshStartedAt = at(started)
		return c
	}
	free := withAttempt("free", 10*time.Minute)
	free.RefreshReplays = 1
	free.ObservedRotation = store.RotationRotates
	lapsed := withAttempt("lapsed", 5*time.Minute)
	lapsed.LeaseOwner, lapsed.LeaseExpiresAt = "dead", at(59*time.Minute)
	live := withAttempt("live", time.Minute)
	live.LeaseOwner, live.LeaseExpiresAt = "alive", at(61*time.Minute)
	backingOff := withAttempt("backing-off", time.Minute)
	backingOff.NextAttemptAt = at(61 * time.Minute)
	reauth := withAttempt("reauth", time.Minute)
	reauth.Status = store.StatusNeedsReauth
	none := newConnection("none", "t1", 0)
	mustCreate(t, s, free, lapsed, live, backingOff, reauth, none)

	got := mustGet(t, s, "free")
	if got.ObservedRotation != store.RotationRotates {
		t.Errorf("ObservedRotation read back as %q, want rotates", got.ObservedRotation)
	}
	if got.RefreshAttempt != "att_free" || !got.RefreshStartedAt.Equal(norm(free.RefreshStartedAt)) || got.RefreshReplays != 1 {
		t.Errorf("journal read back as %q, %v, %d; want att_free, %v, 1", got.RefreshAttempt, got.RefreshStartedAt, got.RefreshReplays, free.RefreshStartedAt)
	}
	if got := mustGet(t, s, "none"); got.RefreshAttempt != "" || !got.RefreshStartedAt.IsZero() || got.RefreshReplays != 0 {
		t.Errorf("empty journal read back as %q, %v, %d", got.RefreshAttempt, got.RefreshStartedAt, got.RefreshReplays)
	}

	// The journal is cleared and written through UpdateConnection.
	if _, err := s.UpdateConnection(ctx, "free", func(c store.Connection) (store.Connection, error) {
		c.RefreshAttempt, c.RefreshStartedAt, c.RefreshReplays = "", time.Time{}, 0
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateConnection(ctx, "none", func(c store.Connection) (store.Connection, error) {
		c.RefreshAttempt, c.RefreshStartedAt, c.RefreshReplays = "att_none", at(0), 2
		c.ObservedRotation = store.RotationKept
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "none"); got.RefreshAttempt != "att_none" || got.RefreshReplays != 2 || !got.RefreshStartedAt.Equal(norm(at(0))) || got.ObservedRotation != store.RotationKept {
		t.Errorf("updated journal read back as %q, %v, %d", got.RefreshAttempt, got.RefreshStartedAt, got.RefreshReplays)
	}
}

// testJournalRefresh checks the journal write: only under the caller's
// live lease and for the refresh token it names, a first attempt stamping
// the time, a replay counting, and Version untouched (RT-01's "+1 per
// refresh" holds with the journal).
func testJournalRefresh(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newConnection("c1", "t1", 0)
	c.RefreshToken = store.Sealed("rt-1")
	mustCreate(t, s, c)
	now := at(time.Hour)
	if _, err := s.JournalRefresh(ctx, "c1", "me", "att_1", c.RefreshToken, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("JournalRefresh without the lease = %v, want ErrConflict", err)
	}
	if _, ok, err := s.AcquireLease(ctx, "c1", "me", now, now.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	if _, err := s.JournalRefresh(ctx, "c1", "me", "att_1", store.Sealed("rt-other"), now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("JournalRefresh for another refresh token = %v, want ErrConflict", err)
	}
	if _, err := s.JournalRefresh(ctx, "c1", "other", "att_1", c.RefreshToken, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("JournalRefresh by another owner = %v, want ErrConflict", err)
	}
	got, err := s.JournalRefresh(ctx, "c1", "me", "att_1", c.RefreshToken, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshAttempt != "att_1" || !got.RefreshStartedAt.Equal(norm(now)) || got.RefreshReplays != 0 || got.Version != 1 {
		t.Errorf("first attempt: %q %v %d version %d; want att_1 %v 0 version 1", got.RefreshAttempt, got.RefreshStartedAt, got.RefreshReplays, got.Version, now)
	}
	// A journaled row is due at once, so its lapsed lease hands it to
	// the next claim.
	if !got.NextRefreshAt.Equal(norm(now)) {
		t.Errorf("NextRefreshAt after JournalRefresh = %v, want %v", got.NextRefreshAt, now)
	}
	later := now.Add(10 * time.Second)
	got, err = s.JournalRefresh(ctx, "c1", "me", "att_2", c.RefreshToken, later)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshAttempt != "att_2" || !got.RefreshStartedAt.Equal(norm(now)) || got.RefreshReplays != 1 || got.Version != 1 {
		t.Errorf("replay: %q %v %d version %d; want att_2 %v 1 version 1", got.RefreshAttempt, got.RefreshStartedAt, got.RefreshReplays, got.Version, now)
	}
	if _, err := s.JournalRefresh(ctx, "c1", "me", "att_3", c.RefreshToken, now.Add(2*time.Minute)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("JournalRefresh after the lease expired = %v, want ErrConflict", err)
	}
	if _, err := s.JournalRefresh(ctx, "missing", "me", "att_1", c.RefreshToken, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("JournalRefresh of a missing row = %v, want ErrConflict", err)
	}
	if claimed, err := s.ClaimDue(ctx, "next", now.Add(2*time.Minute), now.Add(3*time.Minute), 10); err != nil || len(claimed) != 1 || claimed[0].RefreshAttempt != "att_2" {
		t.Errorf("ClaimDue after the lease lapsed = %d rows, %v; want the journaled row", len(claimed), err)
	}
}
