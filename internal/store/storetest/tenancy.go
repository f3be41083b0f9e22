package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

// testIntegrationTenants checks that an operator integration's tenant list
// round-trips with its three meanings: not listed (the grant's default),
// listed and empty (no tenant), and listed.
func testIntegrationTenants(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, in := range []store.Integration{
		{ID: "default", Provider: "pax8-partner", CreatedAt: at(0)},
		{ID: "none", Provider: "pax8-partner", TenantsListed: true, CreatedAt: at(time.Second)},
		{ID: "some", Provider: "pax8-partner", TenantsListed: true, Tenants: []string{"t1", "t2"}, CreatedAt: at(2 * time.Second)},
		{ID: "all", Provider: "pax8", TenantsListed: true, Tenants: []string{store.AllTenants}, CreatedAt: at(3 * time.Second)},
	} {
		if err := s.CreateIntegration(ctx, in); err != nil {
			t.Fatalf("CreateIntegration(%s) = %v", in.ID, err)
		}
		got, err := s.GetIntegration(ctx, in.ID)
		if err != nil {
			t.Fatalf("GetIntegration(%s) = %v", in.ID, err)
		}
		if got.TenantsListed != in.TenantsListed || !cmp.Equal(got.Tenants, in.Tenants, cmpOpts) {
			t.Errorf("%d: GetIntegration(%s) tenants = %v %q, want %v %q", i, in.ID, got.TenantsListed, got.Tenants, in.TenantsListed, in.Tenants)
		}
	}
	// An update can list and unlist.
	err := s.UpdateIntegration(ctx, "default", func(in store.Integration) (store.Integration, error) {
		in.TenantsListed, in.Tenants = true, []string{"t3"}
		return in, nil
	})
	if err != nil {
		t.Fatalf("UpdateIntegration = %v", err)
	}
	if got, _ := s.GetIntegration(ctx, "default"); !got.TenantsListed || !cmp.Equal(got.Tenants, []string{"t3"}) {
		t.Errorf("after listing: %v %q, want true [t3]", got.TenantsListed, got.Tenants)
	}
	err = s.UpdateIntegration(ctx, "default", func(in store.Integration) (store.Integration, error) {
		in.TenantsListed, in.Tenants = false, nil
		return in, nil
	})
	if err != nil {
		t.Fatalf("UpdateIntegration = %v", err)
	}
	if got, _ := s.GetIntegration(ctx, "default"); got.TenantsListed || got.Tenants != nil {
		t.Errorf("after unlisting: %v %q, want false []", got.TenantsListed, got.Tenants)
	}
}

// testAPIKeyLifecycle checks naming, listing, expiry, the bounded
// last-used write and tenant-scoped deletion.
func testAPIKeyLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	k1 := store.APIKey{ID: "k1", TenantID: "t1", Hash: hash("key-1"), Prefix: "gdk_aaaa", Name: "billing", CreatedAt: at(0)}
	k2 := store.APIKey{ID: "k2", TenantID: "t1", Hash: hash("key-2"), Prefix: "gdk_bbbb", Name: "ci", CreatedAt: at(time.Second), ExpiresAt: at(time.Hour)}
	k3 := store.APIKey{ID: "k3", TenantID: "t2", Hash: hash("key-3"), Prefix: "gdk_cccc", CreatedAt: at(0)}
	for _, k := range []store.APIKey{k2, k1, k3} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey(%s) = %v", k.ID, err)
		}
	}
	got, err := s.ListAPIKeys(ctx, "t1")
	if err != nil {
		t.Fatalf("ListAPIKeys(t1) = %v", err)
	}
	if diff := cmp.Diff([]store.APIKey{k1, k2}, got, cmpOpts); diff != "" {
		t.Errorf("ListAPIKeys(t1) (-want +got):\n%s", diff)
	}
	// The first touch writes; one within the bound does not; a later one does.
	if err := s.TouchAPIKey(ctx, "k1", at(10*time.Second), at(10*time.Second).Add(-time.Minute)); err != nil {
		t.Fatalf("TouchAPIKey = %v", err)
	}
	if err := s.TouchAPIKey(ctx, "k1", at(20*time.Second), at(20*time.Second).Add(-time.Minute)); err != nil {
		t.Fatalf("TouchAPIKey = %v", err)
	}
	if k, _ := s.GetAPIKeyByHash(ctx, k1.Hash); !k.LastUsedAt.Equal(at(10 * time.Second)) {
		t.Errorf("LastUsedAt after two touches within a minute = %v, want %v", k.LastUsedAt, at(10*time.Second))
	}
	if err := s.TouchAPIKey(ctx, "k1", at(2*time.Minute), at(2*time.Minute).Add(-time.Minute)); err != nil {
		t.Fatalf("TouchAPIKey = %v", err)
	}
	if k, _ := s.GetAPIKeyByHash(ctx, k1.Hash); !k.LastUsedAt.Equal(at(2 * time.Minute)) {
		t.Errorf("LastUsedAt after a touch a minute later = %v, want %v", k.LastUsedAt, at(2*time.Minute))
	}
	if err := s.TouchAPIKey(ctx, "unknown", at(0), at(0)); err != nil {
		t.Errorf("TouchAPIKey(unknown) = %v, want nil", err)
	}
	// Another tenant's key is not found and stays.
	if err := s.DeleteAPIKey(ctx, "t1", "k3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteAPIKey(t1, k3) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetAPIKeyByHash(ctx, k3.Hash); err != nil {
		t.Errorf("GetAPIKeyByHash(k3) after another tenant's delete = %v", err)
	}
	if err := s.DeleteAPIKey(ctx, "t1", "k1"); err != nil {
		t.Fatalf("DeleteAPIKey(t1, k1) = %v", err)
	}
	if _, err := s.GetAPIKeyByHash(ctx, k1.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAPIKeyByHash(k1) after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteAPIKey(ctx, "t1", "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteAPIKey(t1, k1) again = %v, want ErrNotFound", err)
	}
}

// testSpendConnectLink checks that a link is spent once, even under
// concurrent callers, and that its options round-trip.
func testSpendConnectLink(t *testing.T, s store.Store) {
	ctx := t.Context()
	l := newLink("l1", time.Hour)
	l.ConnectionID, l.AllowAccountChange = "c1", true
	if err := s.CreateConnectLink(ctx, l); err != nil {
		t.Fatalf("CreateConnectLink = %v", err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.SpendConnectLink(ctx, "l1", at(time.Minute)) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("SpendConnectLink = %v, want nil or ErrConflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent SpendConnectLink succeeded, want 1", ok, n)
	}
	got, err := s.GetConnectLinkByTokenHash(ctx, l.TokenHash)
	if err != nil {
		t.Fatalf("GetConnectLinkByTokenHash = %v", err)
	}
	want := l
	want.UsedAt = at(time.Minute)
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("spent link (-want +got):\n%s", diff)
	}
	if err := s.SpendConnectLink(ctx, "unknown", at(0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SpendConnectLink(unknown) = %v, want ErrNotFound", err)
	}
	// A session keeps its link and option.
	cs := newSession("s1", time.Hour)
	cs.LinkID, cs.AllowAccountChange = "l1", true
	if err := s.CreateConnectSession(ctx, cs); err != nil {
		t.Fatalf("CreateConnectSession = %v", err)
	}
	gs, err := s.ConsumeConnectSession(ctx, cs.StateHash)
	if err != nil || gs.LinkID != "l1" || !gs.AllowAccountChange {
		t.Errorf("ConsumeConnectSession = %q %v, %v; want l1 true", gs.LinkID, gs.AllowAccountChange, err)
	}
}

// testCountConnectLinks checks the hourly count, and that DeleteExpired
// keeps a short-lived link for the hour it counts in.
func testCountConnectLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, created := range []time.Duration{0, 10 * time.Minute, 50 * time.Minute} {
		l := newLink(string(rune('a'+i)), 0)
		l.CreatedAt, l.ExpiresAt = at(created), at(created+time.Minute)
		if err := s.CreateConnectLink(ctx, l); err != nil {
			t.Fatalf("CreateConnectLink = %v", err)
		}
	}
	other := newLink("other", time.Hour)
	other.TenantID = "t2"
	if err := s.CreateConnectLink(ctx, other); err != nil {
		t.Fatalf("CreateConnectLink = %v", err)
	}
	if n, oldest, err := s.CountConnectLinks(ctx, "t1", at(5*time.Minute)); err != nil || n != 2 || !oldest.Equal(at(10*time.Minute)) {
		t.Errorf("CountConnectLinks(t1, since 5m) = %d, %v, %v; want 2, %v", n, oldest, err, at(10*time.Minute))
	}
	if n, oldest, err := s.CountConnectLinks(ctx, "t3", at(0)); err != nil || n != 0 || !oldest.IsZero() {
		t.Errorf("CountConnectLinks(t3) = %d, %v, %v; want 0 and no time", n, oldest, err)
	}
	// At 65m every t1 link has expired, but only the one created over an
	// hour ago goes.
	if _, err := s.DeleteExpired(ctx, at(65*time.Minute)); err != nil {
		t.Fatalf("DeleteExpired = %v", err)
	}
	if n, _, err := s.CountConnectLinks(ctx, "t1", at(0)); err != nil || n != 2 {
		t.Errorf("CountConnectLinks(t1) after DeleteExpired = %d, %v; want 2", n, err)
	}
}

// testDeleteTenant checks that a tenant's rows go and another tenant's and
// the events stay.
func testDeleteTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"t1", "t2"} {
		if err := s.CreateTenant(ctx, store.Tenant{ID: id, Name: id, CreatedAt: at(0)}); err != nil {
			t.Fatalf("CreateTenant = %v", err)
		}
		if err := s.CreateAPIKey(ctx, store.APIKey{ID: "k-" + id, TenantID: id, Hash: hash("key-" + id), Prefix: "gdk_", CreatedAt: at(0)}); err != nil {
			t.Fatalf("CreateAPIKey = %v", err)
		}
		if err := s.CreateIntegration(ctx, newIntegration("i-"+id, id, 0)); err != nil {
			t.Fatalf("CreateIntegration = %v", err)
		}
		c := newConnection("c-"+id, id, 0)
		if err := s.CreateConnection(ctx, c); err != nil {
			t.Fatalf("CreateConnection = %v", err)
		}
		if err := s.PutOrgMapping(ctx, store.OrgMapping{TenantID: id, ConnectionID: c.ID, ExternalID: "co1", OrgID: "org1", UpdatedAt: at(0)}); err != nil {
			t.Fatalf("PutOrgMapping = %v", err)
		}
		if err := s.PutOrganizations(ctx, id, []store.Organization{{ID: "org1", Name: "Org"}}); err != nil {
			t.Fatalf("PutOrganizations = %v", err)
		}
		l := newLink("l-"+id, time.Hour)
		l.TenantID = id
		if err := s.CreateConnectLink(ctx, l); err != nil {
			t.Fatalf("CreateConnectLink = %v", err)
		}
		if _, err := s.AddEvent(ctx, store.Event{TenantID: id, ConnectionID: c.ID, Kind: "connected", CreatedAt: at(0)}); err != nil {
			t.Fatalf("AddEvent = %v", err)
		}
	}
	if err := s.DeleteTenant(ctx, "t1"); err != nil {
		t.Fatalf("DeleteTenant(t1) = %v", err)
	}
	if err := s.DeleteTenant(ctx, "t1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteTenant(t1) again = %v, want ErrNotFound", err)
	}
	if _, err := s.GetTenant(ctx, "t1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTenant(t1) = %v, want ErrNotFound", err)
	}
	if ks, _ := s.ListAPIKeys(ctx, "t1"); len(ks) != 0 {
		t.Errorf("ListAPIKeys(t1) = %d keys, want 0", len(ks))
	}
	if _, err := s.GetIntegration(ctx, "i-t1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIntegration(i-t1) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetConnection(ctx, "c-t1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConnection(c-t1) = %v, want ErrNotFound", err)
	}
	if ms, _ := s.ListOrgMappings(ctx, "c-t1"); len(ms) != 0 {
		t.Errorf("ListOrgMappings(c-t1) = %d, want 0", len(ms))
	}
	if os, _ := s.ListOrganizations(ctx, "t1"); len(os) != 0 {
		t.Errorf("ListOrganizations(t1) = %d, want 0", len(os))
	}
	if _, err := s.GetConnectLinkByTokenHash(ctx, hash("link-token-l-t1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConnectLinkByTokenHash(l-t1) = %v, want ErrNotFound", err)
	}
	if es, _ := s.ListEvents(ctx, "c-t1", 0); len(es) != 1 {
		t.Errorf("ListEvents(c-t1) = %d events, want 1 kept as history", len(es))
	}
	// t2 is untouched.
	if ks, _ := s.ListAPIKeys(ctx, "t2"); len(ks) != 1 {
		t.Errorf("ListAPIKeys(t2) = %d keys, want 1", len(ks))
	}
	if _, err := s.GetConnection(ctx, "c-t2"); err != nil {
		t.Errorf("GetConnection(c-t2) = %v", err)
	}
	if ms, _ := s.ListOrgMappings(ctx, "c-t2"); len(ms) != 1 {
		t.Errorf("ListOrgMappings(c-t2) = %d, want 1", len(ms))
	}
}
