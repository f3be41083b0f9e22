package storetest

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

// claimDueTests cover the refresh scheduler's claim (ClaimDue) and its
// wake-up time (NextRefreshDue). Each runs on a fresh store, since a claim
// takes every due row it finds.
var claimDueTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"skip_locked", testClaimDueSkipLocked},
	{"lease_lapse", testClaimDueLeaseLapse},
	{"backoff_excluded", testClaimDueBackoffExcluded},
	{"not_scheduled", testClaimDueNotScheduled},
	{"status", testClaimDueStatus},
	{"ordering", testClaimDueOrdering},
	{"limit", testClaimDueLimit},
	{"version_unchanged", testClaimDueVersionUnchanged},
	{"interrupted", testClaimDueInterrupted},
	{"bad_input", testClaimDueBadInput},
	{"NextRefreshDue", testNextRefreshDue},
}

// scheduled returns a free, active connection due at at(due).
func scheduled(id string, due time.Duration) store.Connection {
	c := newConnection(id, "t1", 0)
	c.NextRefreshAt = at(due)
	return c
}

// claimNow is the instant the claim tests run at: every row scheduled at
// or before it is due.
var claimNow = at(time.Hour)

// mustClaim calls ClaimDue and returns the claimed IDs in the order
// returned, after checking that each row came back leased to owner until
// until.
func mustClaim(t *testing.T, s store.Store, owner string, now, until time.Time, limit int) []string {
	t.Helper()
	cs, err := s.ClaimDue(t.Context(), owner, now, until, limit)
	if err != nil {
		t.Fatalf("ClaimDue(%s, limit %d) = %v", owner, limit, err)
	}
	var ids []string
	for _, c := range cs {
		if c.LeaseOwner != owner || !c.LeaseExpiresAt.Equal(norm(until)) {
			t.Errorf("ClaimDue(%s) returned %s leased to %q until %v, want %s until %v",
				owner, c.ID, c.LeaseOwner, c.LeaseExpiresAt, owner, norm(until))
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// testClaimDueSkipLocked: eight owners claim 300 due rows at once, seven
// at a time, until none is left. The sets they get are disjoint, their
// union is every row, and each row is leased to the owner that got it
// (RT-02: one refresher per connection across replicas).
func testClaimDueSkipLocked(t *testing.T, s store.Store) {
	const total, owners = 300, 8
	var all []string
	for i := range total {
		id := fmt.Sprintf("c%03d", i)
		mustCreate(t, s, scheduled(id, time.Duration(i%17)*time.Minute))
		all = append(all, id)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claimed = map[string][]string{}
	)
	start := make(chan struct{})
	for i := range owners {
		owner := fmt.Sprintf("owner-%d", i)
		wg.Go(func() {
			<-start
			for {
				cs, err := s.ClaimDue(t.Context(), owner, claimNow, claimNow.Add(time.Minute), 7)
				if err != nil {
					t.Errorf("ClaimDue(%s) = %v", owner, err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					claimed[c.ID] = append(claimed[c.ID], owner)
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	for id, by := range claimed {
		if len(by) != 1 {
			t.Errorf("connection %s claimed by %v, want exactly one owner", id, by)
		}
		if c := mustGet(t, s, id); c.LeaseOwner != by[0] {
			t.Errorf("connection %s leased to %q, want its claimer %s", id, c.LeaseOwner, by[0])
		}
	}
	got := slices.Sorted(maps.Keys(claimed))
	if diff := cmp.Diff(all, got, cmpOpts); diff != "" {
		t.Errorf("union of the claimed sets (-want +got):\n%s", diff)
	}
	if ids := mustClaim(t, s, "late", claimNow, claimNow.Add(time.Minute), total); len(ids) != 0 {
		t.Errorf("ClaimDue after the race = %v, want nothing left", ids)
	}
}

// testClaimDueLeaseLapse: rows claimed until T stay with their claimer
// until T, for every other owner and for the claimer itself (a row it
// holds is being worked on), and are claimable by another owner at T.
func testClaimDueLeaseLapse(t *testing.T, s store.Store) {
	mustCreate(t, s, scheduled("a", 0), scheduled("b", time.Minute))
	until := claimNow.Add(30 * time.Second)
	if diff := cmp.Diff([]string{"a", "b"}, mustClaim(t, s, "first", claimNow, until, 10), cmpOpts); diff != "" {
		t.Fatalf("first ClaimDue (-want +got):\n%s", diff)
	}
	before := until.Add(-time.Microsecond)
	for _, owner := range []string{"second", "first"} {
		if ids := mustClaim(t, s, owner, before, before.Add(time.Minute), 10); len(ids) != 0 {
			t.Errorf("ClaimDue(%s) 1µs before the lease ends = %v, want nothing", owner, ids)
		}
	}
	if diff := cmp.Diff([]string{"a", "b"}, mustClaim(t, s, "second", until, until.Add(time.Minute), 10), cmpOpts); diff != "" {
		t.Errorf("ClaimDue(second) when the lease ends (-want +got):\n%s", diff)
	}
	// A released lease is free at once.
	if err := s.ReleaseLease(t.Context(), "a", "second"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a"}, mustClaim(t, s, "third", until, until.Add(time.Minute), 10), cmpOpts); diff != "" {
		t.Errorf("ClaimDue after ReleaseLease (-want +got):\n%s", diff)
	}
	// A lease taken with AcquireLease (a caller's refresh) keeps a due row
	// from the schedulers as well.
	mustCreate(t, s, scheduled("c", 0))
	if _, ok, err := s.AcquireLease(t.Context(), "c", "caller", claimNow, claimNow.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	if ids := mustClaim(t, s, "fourth", claimNow, claimNow.Add(time.Minute), 10); len(ids) != 0 {
		t.Errorf("ClaimDue with c under a caller's lease = %v, want nothing", ids)
	}
}

// testClaimDueBackoffExcluded: a row whose NextRefreshAt is after now (a
// backoff, or simply not yet due) is not claimed; it is at exactly its
// NextRefreshAt.
func testClaimDueBackoffExcluded(t *testing.T, s store.Store) {
	mustCreate(t, s, scheduled("due", 0), scheduled("later", 2*time.Hour))
	// The lease on "due" outlasts the test.
	if diff := cmp.Diff([]string{"due"}, mustClaim(t, s, "a", claimNow, at(24*time.Hour), 10), cmpOpts); diff != "" {
		t.Errorf("ClaimDue (-want +got):\n%s", diff)
	}
	if ids := mustClaim(t, s, "a", at(2*time.Hour-time.Microsecond), at(3*time.Hour), 10); len(ids) != 0 {
		t.Errorf("ClaimDue 1µs before later is due = %v, want nothing", ids)
	}
	if diff := cmp.Diff([]string{"later"}, mustClaim(t, s, "b", at(2*time.Hour), at(3*time.Hour), 10), cmpOpts); diff != "" {
		t.Errorf("ClaimDue when later is due (-want +got):\n%s", diff)
	}
}

// testClaimDueNotScheduled: a zero NextRefreshAt is never claimed, however
// late it is, and becomes claimable once a write schedules it.
func testClaimDueNotScheduled(t *testing.T, s store.Store) {
	mustCreate(t, s, scheduled("never", 0))
	if _, err := s.UpdateConnection(t.Context(), "never", func(c store.Connection) (store.Connection, error) {
		c.NextRefreshAt = time.Time{}
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	bare := store.Connection{ID: "bare", TenantID: "t1", Status: store.StatusActive, CreatedAt: at(0)}
	mustCreate(t, s, bare)
	far := at(100 * 365 * 24 * time.Hour)
	if ids := mustClaim(t, s, "a", far, far.Add(time.Minute), 10); len(ids) != 0 {
		t.Errorf("ClaimDue of unscheduled rows = %v, want nothing", ids)
	}
	if _, err := s.UpdateConnection(t.Context(), "bare", func(c store.Connection) (store.Connection, error) {
		c.NextRefreshAt = at(0)
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"bare"}, mustClaim(t, s, "a", claimNow, claimNow.Add(time.Minute), 10), cmpOpts); diff != "" {
		t.Errorf("ClaimDue after scheduling bare (-want +got):\n%s", diff)
	}
}

// testClaimDueStatus: only active connections are claimed; a grant that
// needs reauthorization or was revoked has nothing to refresh (SEC-35: no
// retry loop on a dead grant).
func testClaimDueStatus(t *testing.T, s store.Store) {
	reauth := scheduled("needs-reauth", 0)
	reauth.Status = store.StatusNeedsReauth
	revoked := scheduled("revoked", 0)
	revoked.Status = store.StatusRevoked
	mustCreate(t, s, reauth, revoked, scheduled("active", 30*time.Minute))
	if diff := cmp.Diff([]string{"active"}, mustClaim(t, s, "a", claimNow, claimNow.Add(time.Minute), 10), cmpOpts); diff != "" {
		t.Errorf("ClaimDue (-want +got):\n%s", diff)
	}
	// Reactivated (a new consent), the row is claimable again.
	if _, err := s.UpdateConnection(t.Context(), "needs-reauth", func(c store.Connection) (store.Connection, error) {
		c.Status = store.StatusActive
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"needs-reauth"}, mustClaim(t, s, "a", claimNow, claimNow.Add(time.Minute), 10), cmpOpts); diff != "" {
		t.Errorf("ClaimDue after reactivation (-want +got):\n%s", diff)
	}
}

// testClaimDueOrdering: the soonest NextRefreshAt is claimed and returned
// first, ties broken by ID, whatever the insertion order; a limited claim
// takes a prefix of that order.
func testClaimDueOrdering(t *testing.T, s store.Store) {
	// Inserted out of order; "t-b" and "t-a" tie.
	for _, c := range []store.Connection{
		scheduled("late", 50*time.Minute), scheduled("t-b", 20*time.Minute),
		scheduled("first", -48*time.Hour), scheduled("t-a", 20*time.Minute),
		scheduled("mid", 30*time.Minute), scheduled("now", time.Hour),
	} {
		mustCreate(t, s, c)
	}
	if diff := cmp.Diff([]string{"first", "t-a", "t-b"}, mustClaim(t, s, "a", claimNow, claimNow.Add(time.Minute), 3), cmpOpts); diff != "" {
		t.Errorf("ClaimDue(limit 3) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"mid", "late", "now"}, mustClaim(t, s, "b", claimNow, claimNow.Add(time.Minute), 10), cmpOpts); diff != "" {
		t.Errorf("ClaimDue(rest) (-want +got):\n%s", diff)
	}
}

// testClaimDueLimit: a claim takes at most limit rows and leaves the rest
// claimable; a limit of zero or less claims and writes nothing.
func testClaimDueLimit(t *testing.T, s store.Store) {
	for i := range 5 {
		mustCreate(t, s, scheduled(fmt.Sprintf("c%d", i), time.Duration(i)*time.Minute))
	}
	for _, limit := range []int{0, -1} {
		cs, err := s.ClaimDue(t.Context(), "a", claimNow, claimNow.Add(time.Minute), limit)
		if err != nil || len(cs) != 0 {
			t.Errorf("ClaimDue(limit %d) = %d rows, %v; want none, nil", limit, len(cs), err)
		}
	}
	for i := range 5 {
		if c := mustGet(t, s, fmt.Sprintf("c%d", i)); c.LeaseOwner != "" {
			t.Errorf("after ClaimDue(limit <= 0), c%d is leased to %q", i, c.LeaseOwner)
		}
	}
	if diff := cmp.Diff([]string{"c0", "c1"}, mustClaim(t, s, "a", claimNow, claimNow.Add(time.Minute), 2), cmpOpts); diff != "" {
		t.Errorf("ClaimDue(limit 2) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c2", "c3"}, mustClaim(t, s, "b", claimNow, claimNow.Add(time.Minute), 2), cmpOpts); diff != "" {
		t.Errorf("second ClaimDue(limit 2) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c4"}, mustClaim(t, s, "c", claimNow, claimNow.Add(time.Minute), 2), cmpOpts); diff != "" {
		t.Errorf("third ClaimDue(limit 2) (-want +got):\n%s", diff)
	}
}

// testClaimDueVersionUnchanged: a claim writes the lease and nothing else,
// like AcquireLease: Version and UpdatedAt stay, so a writer holding the
// row from before the claim is not refused (RT-01: the version moves once
// per refresh), and the rows returned are the rows stored.
func testClaimDueVersionUnchanged(t *testing.T, s store.Store) {
	c := scheduled("c1", 0)
	c.FailureCount, c.LastError, c.NextAttemptAt = 2, "token endpoint: 503", at(-time.Minute)
	mustCreate(t, s, c)
	before := mustGet(t, s, "c1")
	until := claimNow.Add(time.Minute)
	cs, err := s.ClaimDue(t.Context(), "a", claimNow, until, 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("ClaimDue = %d rows, %v; want 1", len(cs), err)
	}
	want := before
	want.LeaseOwner, want.LeaseExpiresAt = "a", norm(until)
	if diff := cmp.Diff(want, cs[0], cmpOpts); diff != "" {
		t.Errorf("ClaimDue returned (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, mustGet(t, s, "c1"), cmpOpts); diff != "" {
		t.Errorf("stored after ClaimDue (-want +got):\n%s", diff)
	}
	// A snapshot read before the claim still writes.
	got, err := s.UpdateConnection(t.Context(), "c1", func(c store.Connection) (store.Connection, error) {
		before.NextRefreshAt = at(2 * time.Hour)
		return before, nil
	})
	if err != nil {
		t.Fatalf("UpdateConnection with the pre-claim snapshot = %v", err)
	}
	if got.Version != 2 {
		t.Errorf("Version after the update = %d, want 2", got.Version)
	}
}

// testClaimDueInterrupted: a refresh whose answer nobody stored (journal
// set, lease lapsed) is claimed like any due row, so the scheduler picks
// it up for recovery (RT-04); under a live lease it is not.
func testClaimDueInterrupted(t *testing.T, s store.Store) {
	lapsed := scheduled("lapsed", 0)
	lapsed.RefreshAttempt, lapsed.RefreshStartedAt = "att_lapsed", at(-time.Minute)
	lapsed.LeaseOwner, lapsed.LeaseExpiresAt = "dead", at(59*time.Minute)
	live := scheduled("live", 0)
	live.RefreshAttempt, live.RefreshStartedAt = "att_live", at(-time.Minute)
	live.LeaseOwner, live.LeaseExpiresAt = "alive", at(61*time.Minute)
	mustCreate(t, s, lapsed, live)
	cs, err := s.ClaimDue(t.Context(), "a", claimNow, claimNow.Add(time.Minute), 10)
	if err != nil || len(cs) != 1 || cs[0].ID != "lapsed" {
		t.Fatalf("ClaimDue = %v, %v; want lapsed only", cs, err)
	}
	if cs[0].RefreshAttempt != "att_lapsed" {
		t.Errorf("claimed row's RefreshAttempt = %q, want att_lapsed kept", cs[0].RefreshAttempt)
	}
	if c := mustGet(t, s, "live"); c.LeaseOwner != "alive" {
		t.Errorf("live row leased to %q, want alive", c.LeaseOwner)
	}
}

// testClaimDueBadInput: an empty owner or a lease that ends at or before
// now is refused and changes nothing.
func testClaimDueBadInput(t *testing.T, s store.Store) {
	mustCreate(t, s, scheduled("c1", 0))
	for _, tc := range []struct {
		name, owner string
		until       time.Time
	}{
		{"empty owner", "", claimNow.Add(time.Minute)},
		{"lease ends now", "a", claimNow},
		{"lease ended", "a", claimNow.Add(-time.Second)},
	} {
		if cs, err := s.ClaimDue(t.Context(), tc.owner, claimNow, tc.until, 10); err == nil {
			t.Errorf("ClaimDue(%s) = %d rows, nil error; want an error", tc.name, len(cs))
		}
	}
	if c := mustGet(t, s, "c1"); c.LeaseOwner != "" || !c.LeaseExpiresAt.IsZero() {
		t.Errorf("after refused claims, lease = %q until %v; want free", c.LeaseOwner, c.LeaseExpiresAt)
	}
}

// testNextRefreshDue: the earliest NextRefreshAt among active, scheduled
// rows without a live lease, past or future; zero when there is none.
func testNextRefreshDue(t *testing.T, s store.Store) {
	next := func(now time.Time) time.Time {
		t.Helper()
		got, err := s.NextRefreshDue(t.Context(), now)
		if err != nil {
			t.Fatalf("NextRefreshDue = %v", err)
		}
		if !got.IsZero() && got.Location() != time.UTC {
			t.Errorf("NextRefreshDue = %v, want UTC", got)
		}
		return got
	}
	if got := next(claimNow); !got.IsZero() {
		t.Errorf("NextRefreshDue on an empty store = %v, want zero", got)
	}
	reauth := scheduled("needs-reauth", -3*time.Hour)
	reauth.Status = store.StatusNeedsReauth
	unscheduled := scheduled("unscheduled", 0)
	unscheduled.NextRefreshAt = time.Time{}
	mustCreate(t, s, reauth, unscheduled)
	if got := next(claimNow); !got.IsZero() {
		t.Errorf("NextRefreshDue with only inactive and unscheduled rows = %v, want zero", got)
	}
	leased := scheduled("leased", -2*time.Hour)
	leased.LeaseOwner, leased.LeaseExpiresAt = "a", claimNow.Add(time.Minute)
	expired := scheduled("expired-lease", 3*time.Hour)
	expired.LeaseOwner, expired.LeaseExpiresAt = "dead", claimNow
	mustCreate(t, s, leased, expired, scheduled("later", 5*time.Hour), scheduled("soon", 4*time.Hour))
	if got, want := next(claimNow), at(3*time.Hour); !got.Equal(want) {
		t.Errorf("NextRefreshDue = %v, want %v (expired-lease; leased is under a live lease)", got, want)
	}
	if got, want := next(claimNow.Add(time.Minute)), at(-2*time.Hour); !got.Equal(want) {
		t.Errorf("NextRefreshDue once leased's lease ends = %v, want %v (in the past: due now)", got, want)
	}
	// What it names is what ClaimDue takes first.
	ids := mustClaim(t, s, "b", claimNow.Add(time.Minute), claimNow.Add(2*time.Minute), 1)
	if diff := cmp.Diff([]string{"leased"}, ids, cmpOpts); diff != "" {
		t.Errorf("ClaimDue(limit 1) (-want +got):\n%s", diff)
	}
	if got, want := next(claimNow.Add(time.Minute)), at(3*time.Hour); !got.Equal(want) {
		t.Errorf("NextRefreshDue after the claim = %v, want %v", got, want)
	}
}
