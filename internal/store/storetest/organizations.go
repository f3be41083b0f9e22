package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

func testOrganizations(t *testing.T, s store.Store) {
	ctx := t.Context()
	list := func(tenant string) []store.Organization {
		t.Helper()
		got, err := s.ListOrganizations(ctx, tenant)
		if err != nil {
			t.Fatalf("ListOrganizations(%q) = %v", tenant, err)
		}
		return got
	}
	if got := list("t1"); len(got) != 0 {
		t.Errorf("ListOrganizations(empty) = %v, want none", got)
	}
	first := []store.Organization{{ID: "org-2", Name: "Bravo"}, {ID: "org-1", Name: "Alpha, Inc."}}
	if err := s.PutOrganizations(ctx, "t1", first); err != nil {
		t.Fatalf("PutOrganizations(t1) = %v", err)
	}
	// The same ids in another tenant are other rows.
	if err := s.PutOrganizations(ctx, "t2", []store.Organization{{TenantID: "t1", ID: "org-1", Name: "Other"}}); err != nil {
		t.Fatalf("PutOrganizations(t2) = %v", err)
	}
	want := []store.Organization{{TenantID: "t1", ID: "org-1", Name: "Alpha, Inc."}, {TenantID: "t1", ID: "org-2", Name: "Bravo"}}
	if diff := cmp.Diff(want, list("t1"), cmpOpts); diff != "" {
		t.Errorf("ListOrganizations(t1) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]store.Organization{{TenantID: "t2", ID: "org-1", Name: "Other"}}, list("t2"), cmpOpts); diff != "" {
		t.Errorf("ListOrganizations(t2) (-want +got):\n%s", diff)
	}

	// Put replaces the whole set.
	if err := s.PutOrganizations(ctx, "t1", []store.Organization{{ID: "org-3", Name: "Charlie"}}); err != nil {
		t.Fatalf("PutOrganizations(replace) = %v", err)
	}
	want = []store.Organization{{TenantID: "t1", ID: "org-3", Name: "Charlie"}}
	if diff := cmp.Diff(want, list("t1"), cmpOpts); diff != "" {
		t.Errorf("ListOrganizations(t1) after replace (-want +got):\n%s", diff)
	}

	// A duplicate id fails and leaves the previous set.
	dup := []store.Organization{{ID: "org-4", Name: "Delta"}, {ID: "org-4", Name: "Delta again"}}
	if err := s.PutOrganizations(ctx, "t1", dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("PutOrganizations(duplicate) = %v, want ErrAlreadyExists", err)
	}
	if diff := cmp.Diff(want, list("t1"), cmpOpts); diff != "" {
		t.Errorf("ListOrganizations(t1) after failed put (-want +got):\n%s", diff)
	}

	// An empty set clears.
	if err := s.PutOrganizations(ctx, "t1", nil); err != nil {
		t.Fatalf("PutOrganizations(nil) = %v", err)
	}
	if got := list("t1"); len(got) != 0 {
		t.Errorf("ListOrganizations after clearing = %v, want none", got)
	}
	if got := list("t2"); len(got) != 1 {
		t.Errorf("ListOrganizations(t2) after clearing t1 = %v, want one", got)
	}
}

func testMappingLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0))
	l := store.MappingLink{ID: "ml1", TokenHash: []byte("hash-1"), TenantID: "t1", ConnectionID: "c1",
		ExpiresAt: at(time.Hour), CreatedAt: at(0)}
	if err := s.CreateMappingLink(ctx, l); err != nil {
		t.Fatalf("CreateMappingLink = %v", err)
	}
	got, err := s.GetMappingLinkByTokenHash(ctx, []byte("hash-1"))
	if err != nil {
		t.Fatalf("GetMappingLinkByTokenHash = %v", err)
	}
	if diff := cmp.Diff(l, got, cmpOpts); diff != "" {
		t.Errorf("GetMappingLinkByTokenHash (-want +got):\n%s", diff)
	}
	if _, err := s.GetMappingLinkByTokenHash(ctx, []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMappingLinkByTokenHash(unknown) = %v, want ErrNotFound", err)
	}
	again := l
	again.ID = "ml2"
	if err := s.CreateMappingLink(ctx, again); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateMappingLink(same hash) = %v, want ErrAlreadyExists", err)
	}
	orphan := store.MappingLink{ID: "ml3", TokenHash: []byte("hash-3"), TenantID: "t1", ConnectionID: "nope", ExpiresAt: at(time.Hour)}
	if err := s.CreateMappingLink(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateMappingLink(unknown connection) = %v, want ErrNotFound", err)
	}

	// DeleteExpired removes expired mapping links only.
	old := store.MappingLink{ID: "ml4", TokenHash: []byte("hash-4"), TenantID: "t1", ConnectionID: "c1",
		ExpiresAt: at(-time.Minute), CreatedAt: at(-time.Hour)}
	if err := s.CreateMappingLink(ctx, old); err != nil {
		t.Fatalf("CreateMappingLink(old) = %v", err)
	}
	if n, err := s.DeleteExpired(ctx, at(0)); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1, nil", n, err)
	}
	if _, err := s.GetMappingLinkByTokenHash(ctx, []byte("hash-4")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMappingLinkByTokenHash(expired, after DeleteExpired) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetMappingLinkByTokenHash(ctx, []byte("hash-1")); err != nil {
		t.Errorf("GetMappingLinkByTokenHash(live, after DeleteExpired) = %v", err)
	}
}
