package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

func testTenants(t *testing.T, s store.Store) {
	ctx := t.Context()
	t1 := store.Tenant{ID: "t1", Name: "Acme MSP", CreatedAt: at(0)}
	t2 := store.Tenant{ID: "t2", Name: "Beta IT", CreatedAt: at(time.Second)}
	for _, tn := range []store.Tenant{t2, t1} {
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatalf("CreateTenant(%q) = %v", tn.ID, err)
		}
	}
	got, err := s.GetTenant(ctx, "t1")
	if err != nil {
		t.Fatalf("GetTenant(t1) = %v", err)
	}
	if diff := cmp.Diff(t1, got, cmpOpts); diff != "" {
		t.Errorf("GetTenant(t1) (-want +got):\n%s", diff)
	}
	list, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatalf("ListTenants = %v", err)
	}
	if diff := cmp.Diff([]store.Tenant{t1, t2}, list, cmpOpts); diff != "" {
		t.Errorf("ListTenants (-want +got):\n%s", diff)
	}
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "again"}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateTenant(duplicate) = %v, want ErrAlreadyExists", err)
	}
	if _, err := s.GetTenant(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTenant(nope) = %v, want ErrNotFound", err)
	}
	// A zero CreatedAt is filled in, so listings have an order.
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t3", Name: "Gamma"}); err != nil {
		t.Fatalf("CreateTenant(t3) = %v", err)
	}
	if got, err := s.GetTenant(ctx, "t3"); err != nil || got.CreatedAt.IsZero() {
		t.Errorf("GetTenant(t3) = %+v, %v; want a CreatedAt", got, err)
	}
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := store.APIKey{ID: "k1", TenantID: "t1", Hash: []byte("0123456789abcdef0123456789abcdef"),
		Prefix: "gd_abc", CreatedAt: at(0)}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("CreateAPIKey = %v", err)
	}
	got, err := s.GetAPIKeyByHash(ctx, k.Hash)
	if err != nil {
		t.Fatalf("GetAPIKeyByHash = %v", err)
	}
	if diff := cmp.Diff(k, got, cmpOpts); diff != "" {
		t.Errorf("GetAPIKeyByHash (-want +got):\n%s", diff)
	}
	if _, err := s.GetAPIKeyByHash(ctx, []byte("other")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAPIKeyByHash(unknown) = %v, want ErrNotFound", err)
	}
	sameID := k
	sameID.Hash = []byte("another hash")
	if err := s.CreateAPIKey(ctx, sameID); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateAPIKey(same id) = %v, want ErrAlreadyExists", err)
	}
	sameHash := k
	sameHash.ID = "k2"
	if err := s.CreateAPIKey(ctx, sameHash); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateAPIKey(same hash) = %v, want ErrAlreadyExists", err)
	}
}

func newIntegration(id, tenant string, created time.Duration) store.Integration {
	return store.Integration{
		ID:           id,
		TenantID:     tenant,
		Provider:     "pax8",
		Name:         "Pax8 " + id,
		ClientID:     "client-" + id,
		ClientSecret: store.Sealed("sealed-secret-" + id),
		RedirectURI:  "https://grantd.example/callback/" + id,
		Scopes:       []string{"Manage:Pax8Data", "openid", "offline_access"},
		Audience:     "https://api.pax8.com",
		IsDefault:    true,
		CreatedAt:    at(created),
		UpdatedAt:    at(created),
	}
}

func testIntegrations(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := newIntegration("i1", "t1", 0)
	in.CreatedAt = base // not normalised: the store must do it
	if err := s.CreateIntegration(ctx, in); err != nil {
		t.Fatalf("CreateIntegration = %v", err)
	}
	got, err := s.GetIntegration(ctx, "i1")
	if err != nil {
		t.Fatalf("GetIntegration = %v", err)
	}
	want := in
	want.CreatedAt = norm(base)
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("GetIntegration (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("GetIntegration: CreatedAt in %v, want UTC", got.CreatedAt.Location())
	}
	// A Daxko integration keeps its sealed partner token.
	dx := newIntegration("dx", "t1", 2*time.Second)
	dx.Provider, dx.Scopes, dx.Audience = "daxko", nil, ""
	dx.PartnerToken = store.Sealed("sealed-partner-token")
	if err := s.CreateIntegration(ctx, dx); err != nil {
		t.Fatalf("CreateIntegration(dx) = %v", err)
	}
	if got, err := s.GetIntegration(ctx, "dx"); err != nil || !cmp.Equal(dx, got, cmpOpts) {
		t.Errorf("GetIntegration(dx) = %v, %v; want the partner token round-tripped (-want +got):\n%s", got, err, cmp.Diff(dx, got, cmpOpts))
	}
	// An operator integration with nothing optional set round-trips too.
	op := store.Integration{ID: "op", Provider: "paxful", CreatedAt: at(time.Second)}
	if err := s.CreateIntegration(ctx, op); err != nil {
		t.Fatalf("CreateIntegration(op) = %v", err)
	}
	got, err = s.GetIntegration(ctx, "op")
	if err != nil {
		t.Fatalf("GetIntegration(op) = %v", err)
	}
	if diff := cmp.Diff(op, got, cmpOpts); diff != "" {
		t.Errorf("GetIntegration(op) (-want +got):\n%s", diff)
	}
	if err := s.CreateIntegration(ctx, in); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateIntegration(duplicate) = %v, want ErrAlreadyExists", err)
	}
	if _, err := s.GetIntegration(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIntegration(nope) = %v, want ErrNotFound", err)
	}
}

func testUpdateIntegration(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := newIntegration("i1", "t1", 0)
	if err := s.CreateIntegration(ctx, in); err != nil {
		t.Fatalf("CreateIntegration = %v", err)
	}
	err := s.UpdateIntegration(ctx, "i1", func(in store.Integration) (store.Integration, error) {
		in.Name = "renamed"
		in.ClientSecret = store.Sealed("new sealed secret")
		in.PartnerToken = store.Sealed("new sealed partner token")
		in.Scopes = []string{"openid"}
		in.IsDefault = false
		in.UpdatedAt = at(time.Hour)
		// Immutable fields are kept whatever update returns.
		in.ID, in.TenantID, in.CreatedAt = "other", "t2", at(-time.Hour)
		return in, nil
	})
	if err != nil {
		t.Fatalf("UpdateIntegration = %v", err)
	}
	got, err := s.GetIntegration(ctx, "i1")
	if err != nil {
		t.Fatalf("GetIntegration = %v", err)
	}
	want := in
	want.Name = "renamed"
	want.ClientSecret = store.Sealed("new sealed secret")
	want.PartnerToken = store.Sealed("new sealed partner token")
	want.Scopes = []string{"openid"}
	want.IsDefault = false
	want.UpdatedAt = at(time.Hour)
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("GetIntegration after update (-want +got):\n%s", diff)
	}
	errBoom := errors.New("boom")
	err = s.UpdateIntegration(ctx, "i1", func(in store.Integration) (store.Integration, error) {
		in.Name = "must not be written"
		return in, errBoom
	})
	if err != errBoom {
		t.Errorf("UpdateIntegration(failing update) = %v, want %v unchanged", err, errBoom)
	}
	if got, _ := s.GetIntegration(ctx, "i1"); got.Name != "renamed" {
		t.Errorf("after failing update Name = %q, want %q", got.Name, "renamed")
	}
	err = s.UpdateIntegration(ctx, "nope", func(in store.Integration) (store.Integration, error) {
		t.Error("update called for a missing integration")
		return in, nil
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateIntegration(nope) = %v, want ErrNotFound", err)
	}
}

// testIntegrationTenantScope checks that a tenant lists its own and the
// operator's integrations and never another tenant's (SEC-43).
func testIntegrationTenantScope(t *testing.T, s store.Store) {
	ctx := t.Context()
	ins := []store.Integration{
		newIntegration("a1", "ta", 2*time.Second),
		newIntegration("op", "", time.Second),
		newIntegration("b1", "tb", 0),
		newIntegration("a2", "ta", 3*time.Second),
	}
	for _, in := range ins {
		if err := s.CreateIntegration(ctx, in); err != nil {
			t.Fatalf("CreateIntegration(%q) = %v", in.ID, err)
		}
	}
	ids := func(tenant string) []string {
		list, err := s.ListIntegrations(ctx, tenant)
		if err != nil {
			t.Fatalf("ListIntegrations(%q) = %v", tenant, err)
		}
		var got []string
		for _, in := range list {
			got = append(got, in.ID)
		}
		return got
	}
	for _, tc := range []struct {
		tenant string
		want   []string
	}{
		{"ta", []string{"op", "a1", "a2"}},
		{"tb", []string{"b1", "op"}},
		{"tc", []string{"op"}},
		{"", []string{"op"}},
	} {
		if diff := cmp.Diff(tc.want, ids(tc.tenant), cmpOpts); diff != "" {
			t.Errorf("ListIntegrations(%q) (-want +got):\n%s", tc.tenant, diff)
		}
	}
}
