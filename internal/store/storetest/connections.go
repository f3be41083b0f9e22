package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

// newConnection returns a connection with every field set, its times
// already as a store keeps them.
func newConnection(id, tenant string, created time.Duration) store.Connection {
	return store.Connection{
		ID:                   id,
		TenantID:             tenant,
		IntegrationID:        "i1",
		Provider:             "pax8",
		Status:               store.StatusActive,
		Subject:              "auth0|partner-user",
		Email:                "admin@msp.example",
		Scopes:               []string{"Manage:Pax8Data", "openid", "offline_access"},
		RequestedScopes:      []string{"Manage:Pax8Data", "openid", "profile", "offline_access"},
		TokenType:            "Bearer",
		EndUser:              store.EndUser{ID: "u-" + id, Email: id + "@customer.example", DisplayName: "User " + id},
		Tags:                 []string{"all", "only-" + id},
		AccessToken:          store.Sealed("sealed-access-" + id),
		RefreshToken:         store.Sealed("sealed-refresh-" + id),
		IDToken:              store.Sealed("sealed-id-" + id),
		AccessExpiresAt:      at(24 * time.Hour),
		RefreshExpiresAt:     at(365 * 24 * time.Hour),
		RefreshIdleExpiresAt: at(30 * 24 * time.Hour),
		LastRefreshAt:        at(0),
		ConnectedAt:          at(0),
		Version:              1,
		FailureCount:         0,
		ReauthNoticeAt:       at(335 * 24 * time.Hour),
		NextRefreshAt:        at(24*time.Hour - 10*time.Minute),
		CreatedAt:            at(created),
		UpdatedAt:            at(created),
	}
}

func mustCreate(t *testing.T, s store.Store, cs ...store.Connection) {
	t.Helper()
	for _, c := range cs {
		if err := s.CreateConnection(t.Context(), c); err != nil {
			t.Fatalf("CreateConnection(%q) = %v", c.ID, err)
		}
	}
}

func mustGet(t *testing.T, s store.Store, id string) store.Connection {
	t.Helper()
	c, err := s.GetConnection(t.Context(), id)
	if err != nil {
		t.Fatalf("GetConnection(%q) = %v", id, err)
	}
	return c
}

func testConnections(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newConnection("c1", "t1", 0)
	c.Version = 7 // ignored: a new connection starts at 1
	mustCreate(t, s, c)
	want := c
	want.Version = 1
	if diff := cmp.Diff(want, mustGet(t, s, "c1"), cmpOpts); diff != "" {
		t.Errorf("GetConnection (-want +got):\n%s", diff)
	}
	if err := s.CreateConnection(ctx, c); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateConnection(duplicate) = %v, want ErrAlreadyExists", err)
	}
	if _, err := s.GetConnection(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConnection(nope) = %v, want ErrNotFound", err)
	}
	// The minimal connection: everything optional empty or zero.
	bare := store.Connection{ID: "c2", TenantID: "t1", Status: store.StatusNeedsReauth, CreatedAt: at(time.Second)}
	mustCreate(t, s, bare)
	bare.Version = 1
	if diff := cmp.Diff(bare, mustGet(t, s, "c2"), cmpOpts); diff != "" {
		t.Errorf("GetConnection(minimal) (-want +got):\n%s", diff)
	}
}

// testTimeRoundTrip writes times with nanoseconds in a non-UTC zone and
// zero times: they come back in UTC, truncated to the microsecond, and zero
// stays zero.
func testTimeRoundTrip(t *testing.T, s store.Store) {
	c := newConnection("c1", "t1", 0)
	zone := time.FixedZone("X", -7*3600-30*60)
	c.AccessExpiresAt = time.Date(2026, 1, 2, 3, 4, 5, 999999999, zone)
	c.RefreshExpiresAt = time.Date(2027, 1, 2, 3, 4, 5, 1000, zone)
	c.RefreshIdleExpiresAt = time.Date(1969, 12, 31, 23, 59, 59, 123456789, time.UTC)
	c.LastRefreshAt = time.Time{}
	c.ConnectedAt = time.Date(2026, 6, 30, 23, 59, 59, 500, time.Local)
	c.NextAttemptAt = time.Time{}
	c.NextRefreshAt = time.Date(2026, 1, 2, 3, 4, 5, 999999999, zone)
	c.CreatedAt = base
	c.UpdatedAt = base.Add(time.Nanosecond)
	mustCreate(t, s, c)
	got := mustGet(t, s, "c1")
	for _, tc := range []struct {
		name      string
		in, out   time.Time
		wantValue time.Time
	}{
		{"AccessExpiresAt", c.AccessExpiresAt, got.AccessExpiresAt, time.Date(2026, 1, 2, 10, 34, 5, 999999000, time.UTC)},
		{"RefreshExpiresAt", c.RefreshExpiresAt, got.RefreshExpiresAt, time.Date(2027, 1, 2, 10, 34, 5, 1000, time.UTC)},
		{"RefreshIdleExpiresAt", c.RefreshIdleExpiresAt, got.RefreshIdleExpiresAt, time.Date(1969, 12, 31, 23, 59, 59, 123456000, time.UTC)},
		{"ConnectedAt", c.ConnectedAt, got.ConnectedAt, norm(c.ConnectedAt)},
		{"NextRefreshAt", c.NextRefreshAt, got.NextRefreshAt, time.Date(2026, 1, 2, 10, 34, 5, 999999000, time.UTC)},
		{"CreatedAt", c.CreatedAt, got.CreatedAt, time.Date(2026, 3, 14, 14, 9, 26, 535897000, time.UTC)},
		{"UpdatedAt", c.UpdatedAt, got.UpdatedAt, time.Date(2026, 3, 14, 14, 9, 26, 535897000, time.UTC)},
	} {
		if !tc.out.Equal(tc.wantValue) {
			t.Errorf("%s: wrote %v, read %v, want %v", tc.name, tc.in, tc.out, tc.wantValue)
		}
		if tc.out.Location() != time.UTC {
			t.Errorf("%s: read in %v, want UTC", tc.name, tc.out.Location())
		}
	}
	if !got.LastRefreshAt.IsZero() || !got.NextAttemptAt.IsZero() || !got.LeaseExpiresAt.IsZero() {
		t.Errorf("zero times read back as %v, %v, %v; want zero",
			got.LastRefreshAt, got.NextAttemptAt, got.LeaseExpiresAt)
	}
	// A time written through UpdateConnection round-trips the same way.
	next, err := s.UpdateConnection(t.Context(), "c1", func(c store.Connection) (store.Connection, error) {
		c.LastRefreshAt = time.Date(2026, 2, 3, 4, 5, 6, 7890, zone)
		c.AccessExpiresAt = time.Time{}
		c.NextRefreshAt = time.Time{}
		return c, nil
	})
	if err != nil {
		t.Fatalf("UpdateConnection = %v", err)
	}
	want := time.Date(2026, 2, 3, 11, 35, 6, 7000, time.UTC)
	for name, got := range map[string]store.Connection{"returned": next, "stored": mustGet(t, s, "c1")} {
		if !got.LastRefreshAt.Equal(want) || got.LastRefreshAt.Location() != time.UTC {
			t.Errorf("%s LastRefreshAt = %v, want %v", name, got.LastRefreshAt, want)
		}
		if !got.AccessExpiresAt.IsZero() {
			t.Errorf("%s AccessExpiresAt = %v, want zero", name, got.AccessExpiresAt)
		}
		if !got.NextRefreshAt.IsZero() {
			t.Errorf("%s NextRefreshAt = %v, want zero", name, got.NextRefreshAt)
		}
	}
}

// testListConnections checks the tenant and status filters (SEC-43) and
// the CreatedAt order.
func testListConnections(t *testing.T, s store.Store) {
	ctx := t.Context()
	a1 := newConnection("a1", "ta", 3*time.Second)
	a2 := newConnection("a2", "ta", time.Second)
	a2.Status = store.StatusNeedsReauth
	b1 := newConnection("b1", "tb", 2*time.Second)
	mustCreate(t, s, a1, a2, b1)
	for _, tc := range []struct {
		f    store.ConnectionFilter
		want []string
	}{
		{store.ConnectionFilter{}, []string{"a2", "b1", "a1"}},
		{store.ConnectionFilter{TenantID: "ta"}, []string{"a2", "a1"}},
		{store.ConnectionFilter{TenantID: "tb"}, []string{"b1"}},
		{store.ConnectionFilter{TenantID: "tc"}, nil},
		{store.ConnectionFilter{Status: store.StatusActive}, []string{"b1", "a1"}},
		{store.ConnectionFilter{TenantID: "ta", Status: store.StatusNeedsReauth}, []string{"a2"}},
		{store.ConnectionFilter{TenantID: "tb", Status: store.StatusRevoked}, nil},
		{store.ConnectionFilter{Limit: 2}, []string{"a2", "b1"}},
		{store.ConnectionFilter{Status: store.StatusActive, Limit: 1}, []string{"b1"}},
	} {
		list, err := s.ListConnections(ctx, tc.f)
		if err != nil {
			t.Fatalf("ListConnections(%+v) = %v", tc.f, err)
		}
		var got []string
		for _, c := range list {
			got = append(got, c.ID)
		}
		if diff := cmp.Diff(tc.want, got, cmpOpts); diff != "" {
			t.Errorf("ListConnections(%+v) (-want +got):\n%s", tc.f, diff)
		}
	}
	list, _ := s.ListConnections(ctx, store.ConnectionFilter{TenantID: "tb"})
	if len(list) == 1 {
		if diff := cmp.Diff(b1, list[0], cmpOpts); diff != "" {
			t.Errorf("ListConnections row (-want +got):\n%s", diff)
		}
	}
}

// testUpdateConnection replaces the tokens and bumps the version; the new
// refresh token replaces the old one (SEC-33).
func testUpdateConnection(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newConnection("c1", "t1", 0)
	mustCreate(t, s, c)
	got, err := s.UpdateConnection(ctx, "c1", func(c store.Connection) (store.Connection, error) {
		if c.Version != 1 {
			t.Errorf("update got Version %d, want 1", c.Version)
		}
		c.AccessToken = store.Sealed("sealed-access-2")
		c.RefreshToken = store.Sealed("sealed-refresh-2")
		c.IDToken = nil
		c.AccessExpiresAt = at(48 * time.Hour)
		c.LastRefreshAt = at(24 * time.Hour)
		c.Scopes = []string{"openid"}
		c.Status = store.StatusNeedsReauth
		c.FailureCount = 3
		c.NextAttemptAt = at(time.Minute)
		c.LastError = "token endpoint: 503"
		c.ReauthNoticeAt = at(358 * 24 * time.Hour)
		c.NextRefreshAt = at(47*time.Hour + 50*time.Minute)
		c.UpdatedAt = at(24 * time.Hour)
		// Immutable fields are kept whatever update returns.
		c.ID, c.TenantID, c.CreatedAt = "other", "t2", at(-time.Hour)
		return c, nil
	})
	if err != nil {
		t.Fatalf("UpdateConnection = %v", err)
	}
	want := c
	want.AccessToken = store.Sealed("sealed-access-2")
	want.RefreshToken = store.Sealed("sealed-refresh-2")
	want.IDToken = nil
	want.AccessExpiresAt = at(48 * time.Hour)
	want.LastRefreshAt = at(24 * time.Hour)
	want.Scopes = []string{"openid"}
	want.Status = store.StatusNeedsReauth
	want.FailureCount = 3
	want.NextAttemptAt = at(time.Minute)
	want.LastError = "token endpoint: 503"
	want.ReauthNoticeAt = at(358 * 24 * time.Hour)
	want.NextRefreshAt = at(47*time.Hour + 50*time.Minute)
	want.UpdatedAt = at(24 * time.Hour)
	want.Version = 2
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("UpdateConnection returned (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, mustGet(t, s, "c1"), cmpOpts); diff != "" {
		t.Errorf("GetConnection after update (-want +got):\n%s", diff)
	}
	if _, err := s.GetConnection(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConnection(other) = %v, want ErrNotFound: update must not change the id", err)
	}
	// UpdatedAt moves on when update leaves it alone.
	got, err = s.UpdateConnection(ctx, "c1", func(c store.Connection) (store.Connection, error) { return c, nil })
	if err != nil {
		t.Fatalf("UpdateConnection(no change) = %v", err)
	}
	if got.Version != 3 || !got.UpdatedAt.After(want.UpdatedAt) {
		t.Errorf("UpdateConnection(no change) = version %d, updated %v; want 3, after %v",
			got.Version, got.UpdatedAt, want.UpdatedAt)
	}
	_, err = s.UpdateConnection(ctx, "nope", func(c store.Connection) (store.Connection, error) {
		t.Error("update called for a missing connection")
		return c, nil
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateConnection(nope) = %v, want ErrNotFound", err)
	}
}

// testUpdateConnectionStale: a writer that read version 1 and writes after
// someone else wrote version 2 gets ErrConflict and changes nothing
// (RT-06: a stale worker never overwrites a newer grant).
func testUpdateConnectionStale(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0))
	stale := mustGet(t, s, "c1")
	fresh, err := s.UpdateConnection(ctx, "c1", func(c store.Connection) (store.Connection, error) {
		c.RefreshToken = store.Sealed("sealed-refresh-new")
		return c, nil
	})
	if err != nil {
		t.Fatalf("UpdateConnection = %v", err)
	}
	_, err = s.UpdateConnection(ctx, "c1", func(store.Connection) (store.Connection, error) {
		c := stale
		c.RefreshToken = store.Sealed("sealed-refresh-stale")
		return c, nil
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("UpdateConnection(stale) = %v, want ErrConflict", err)
	}
	if diff := cmp.Diff(fresh, mustGet(t, s, "c1"), cmpOpts); diff != "" {
		t.Errorf("stale write changed the row (-want +got):\n%s", diff)
	}
}

// testUpdateConnectionFuncError: an error from update is returned as is
// and nothing is written.
func testUpdateConnectionFuncError(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0))
	before := mustGet(t, s, "c1")
	errBoom := errors.New("boom")
	_, err := s.UpdateConnection(ctx, "c1", func(c store.Connection) (store.Connection, error) {
		c.RefreshToken = store.Sealed("must not be written")
		c.Status = store.StatusRevoked
		return c, errBoom
	})
	if err != errBoom {
		t.Errorf("UpdateConnection(failing update) = %v, want %v unchanged", err, errBoom)
	}
	if diff := cmp.Diff(before, mustGet(t, s, "c1"), cmpOpts); diff != "" {
		t.Errorf("failing update changed the row (-want +got):\n%s", diff)
	}
}

func testDeleteConnection(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0), newConnection("c2", "t1", 0))
	m := store.OrgMapping{TenantID: "t1", ConnectionID: "c1", ExternalID: "co-1", OrgID: "org-1", UpdatedAt: at(0)}
	if err := s.PutOrgMapping(ctx, m); err != nil {
		t.Fatalf("PutOrgMapping = %v", err)
	}
	if err := s.DeleteConnection(ctx, "c1"); err != nil {
		t.Fatalf("DeleteConnection = %v", err)
	}
	if _, err := s.GetConnection(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConnection(deleted) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteConnection(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteConnection(deleted) = %v, want ErrNotFound", err)
	}
	if got, err := s.ListOrgMappings(ctx, "c1"); err != nil || len(got) != 0 {
		t.Errorf("ListOrgMappings(deleted connection) = %v, %v; want none", got, err)
	}
	mustGet(t, s, "c2")
}

// testEndUserFilter: ListConnections narrows by end user id and by tag,
// within the tenant, and an update keeps both.
func testEndUserFilter(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b, other := newConnection("c1", "t1", 0), newConnection("c2", "t1", time.Second), newConnection("c3", "t2", 2*time.Second)
	b.EndUser.ID = a.EndUser.ID
	mustCreate(t, s, a, b, other)
	ids := func(f store.ConnectionFilter) []string {
		t.Helper()
		cs, err := s.ListConnections(ctx, f)
		if err != nil {
			t.Fatalf("ListConnections(%+v): %v", f, err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f    store.ConnectionFilter
		want []string
	}{
		{store.ConnectionFilter{TenantID: "t1", EndUserID: "u-c1"}, []string{"c1", "c2"}},
		{store.ConnectionFilter{TenantID: "t1", Tag: "only-c2"}, []string{"c2"}},
		{store.ConnectionFilter{TenantID: "t1", Tag: "all"}, []string{"c1", "c2"}},
		{store.ConnectionFilter{TenantID: "t1", Tag: "only-c3"}, nil},
		{store.ConnectionFilter{TenantID: "t1", Tag: "only"}, nil},
		{store.ConnectionFilter{Tag: "all", EndUserID: "u-c3"}, []string{"c3"}},
	} {
		if diff := cmp.Diff(tc.want, ids(tc.f)); diff != "" {
			t.Errorf("ListConnections(%+v) (-want +got):\n%s", tc.f, diff)
		}
	}
	got, err := s.UpdateConnection(ctx, "c1", func(c store.Connection) (store.Connection, error) {
		c.Tags = append(c.Tags, "new")
		c.EndUser.DisplayName = "Renamed"
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got.Tags, "new") || got.EndUser.DisplayName != "Renamed" || got.EndUser.ID != "u-c1" {
		t.Errorf("after update: end user %+v, tags %v", got.EndUser, got.Tags)
	}
}
