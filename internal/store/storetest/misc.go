package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	var lastID int64
	for i := range 5 {
		e := store.Event{TenantID: "t1", ConnectionID: "c1", IntegrationID: "i1", Provider: "pax8", Kind: fmt.Sprintf("kind-%d", i),
			Detail: "detail", CreatedAt: at(time.Duration(i) * time.Second)}
		id, err := s.AddEvent(ctx, e)
		if err != nil || id <= lastID {
			t.Fatalf("AddEvent(%d) = %d, %v; want an id above %d", i, id, err, lastID)
		}
		lastID = id
		if lastID, err = s.AddEvent(ctx, store.Event{TenantID: "t2", ConnectionID: "c2", Kind: "other", CreatedAt: at(time.Hour)}); err != nil {
			t.Fatalf("AddEvent(other) = %v", err)
		}
	}
	// EventsSince pages through every connection's events by id.
	since, err := s.EventsSince(ctx, at(2*time.Second), 0, 0)
	if err != nil {
		t.Fatalf("EventsSince = %v", err)
	}
	var kinds []string
	for i, e := range since {
		kinds = append(kinds, e.Kind)
		if i > 0 && e.ID <= since[i-1].ID {
			t.Errorf("EventsSince ids %d then %d, want ascending", since[i-1].ID, e.ID)
		}
	}
	want := []string{"other", "kind-2", "other", "kind-3", "other", "kind-4", "other"}
	if diff := cmp.Diff(want, kinds[len(kinds)-len(want):], cmpOpts); diff != "" || len(kinds) != 8 {
		t.Errorf("EventsSince kinds (-want +got):\n%s (all: %v)", diff, kinds)
	}
	page, err := s.EventsSince(ctx, at(2*time.Second), since[2].ID, 2)
	if err != nil || len(page) != 2 || page[0].ID != since[3].ID {
		t.Errorf("EventsSince(after %d, limit 2) = %v, %v; want events %d and %d", since[2].ID, page, err, since[3].ID, since[4].ID)
	}
	all, err := s.ListEvents(ctx, "c1", 0)
	if err != nil {
		t.Fatalf("ListEvents = %v", err)
	}
	if len(all) != 5 {
		t.Fatalf("ListEvents(no limit) = %d events, want 5", len(all))
	}
	for i, e := range all {
		want := store.Event{ID: e.ID, TenantID: "t1", ConnectionID: "c1", IntegrationID: "i1", Provider: "pax8",
			Kind: fmt.Sprintf("kind-%d", 4-i), Detail: "detail", CreatedAt: at(time.Duration(4-i) * time.Second)}
		if diff := cmp.Diff(want, e, cmpOpts); diff != "" {
			t.Errorf("ListEvents[%d] (-want +got):\n%s", i, diff)
		}
		if i > 0 && e.ID >= all[i-1].ID {
			t.Errorf("ListEvents IDs %d then %d, want newest (highest) first", all[i-1].ID, e.ID)
		}
	}
	got, err := s.ListEvents(ctx, "c1", 3)
	if err != nil {
		t.Fatalf("ListEvents(limit 3) = %v", err)
	}
	if diff := cmp.Diff(all[:3], got, cmpOpts); diff != "" {
		t.Errorf("ListEvents(limit 3) (-want +got):\n%s", diff)
	}
	if got, err := s.ListEvents(ctx, "none", 10); err != nil || len(got) != 0 {
		t.Errorf("ListEvents(none) = %v, %v; want empty", got, err)
	}
}

func testOrgMappings(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0), newConnection("c2", "t1", 0))
	m1 := store.OrgMapping{TenantID: "t1", ConnectionID: "c1", ExternalID: "co-b", ExternalName: "Bravo", OrgID: "org-2", UpdatedAt: at(0)}
	m2 := store.OrgMapping{TenantID: "t1", ConnectionID: "c1", ExternalID: "co-a", ExternalName: "Alpha", OrgID: "org-1", UpdatedAt: at(0)}
	other := store.OrgMapping{TenantID: "t1", ConnectionID: "c2", ExternalID: "co-a", ExternalName: "Alpha", OrgID: "org-9", UpdatedAt: at(0)}
	for _, m := range []store.OrgMapping{m1, m2, other} {
		if err := s.PutOrgMapping(ctx, m); err != nil {
			t.Fatalf("PutOrgMapping(%q) = %v", m.ExternalID, err)
		}
	}
	list := func(conn string) []store.OrgMapping {
		t.Helper()
		got, err := s.ListOrgMappings(ctx, conn)
		if err != nil {
			t.Fatalf("ListOrgMappings(%q) = %v", conn, err)
		}
		return got
	}
	if diff := cmp.Diff([]store.OrgMapping{m2, m1}, list("c1"), cmpOpts); diff != "" {
		t.Errorf("ListOrgMappings(c1) (-want +got):\n%s", diff)
	}
	// Put replaces the mapping with the same key.
	m1b := m1
	m1b.OrgID, m1b.ExternalName, m1b.UpdatedAt = "org-3", "Bravo Ltd", at(time.Hour)
	if err := s.PutOrgMapping(ctx, m1b); err != nil {
		t.Fatalf("PutOrgMapping(replace) = %v", err)
	}
	if diff := cmp.Diff([]store.OrgMapping{m2, m1b}, list("c1"), cmpOpts); diff != "" {
		t.Errorf("ListOrgMappings(c1) after replace (-want +got):\n%s", diff)
	}
	if err := s.DeleteOrgMapping(ctx, "c1", "co-a"); err != nil {
		t.Fatalf("DeleteOrgMapping = %v", err)
	}
	if diff := cmp.Diff([]store.OrgMapping{m1b}, list("c1"), cmpOpts); diff != "" {
		t.Errorf("ListOrgMappings(c1) after delete (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]store.OrgMapping{other}, list("c2"), cmpOpts); diff != "" {
		t.Errorf("ListOrgMappings(c2) (-want +got):\n%s", diff)
	}
	if err := s.DeleteOrgMapping(ctx, "c1", "co-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteOrgMapping(deleted) = %v, want ErrNotFound", err)
	}
	orphan := store.OrgMapping{TenantID: "t1", ConnectionID: "nope", ExternalID: "co-a", OrgID: "org-1"}
	if err := s.PutOrgMapping(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutOrgMapping(unknown connection) = %v, want ErrNotFound", err)
	}
}

func testMeta(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetMeta(ctx, "vault_fingerprint"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMeta(missing) = %v, want ErrNotFound", err)
	}
	for _, v := range []string{"fp-1", "fp-2"} {
		if err := s.PutMeta(ctx, "vault_fingerprint", v); err != nil {
			t.Fatalf("PutMeta(%q) = %v", v, err)
		}
		got, err := s.GetMeta(ctx, "vault_fingerprint")
		if err != nil || got != v {
			t.Errorf("GetMeta = %q, %v; want %q", got, err, v)
		}
	}
	if err := s.PutMeta(ctx, "schema_note", ""); err != nil {
		t.Fatalf("PutMeta(empty value) = %v", err)
	}
	if got, err := s.GetMeta(ctx, "schema_note"); err != nil || got != "" {
		t.Errorf("GetMeta(empty value) = %q, %v; want empty, nil", got, err)
	}

	// ListMeta matches its prefix literally: % and _ are not wildcards,
	// case counts, and a key equal to the prefix is listed.
	for k, v := range map[string]string{
		"replica/a":      "1",
		"replica/b":      "2",
		"replica/":       "3",
		"Replica/c":      "4",
		"replicas":       "5",
		"replica":        "6",
		"50%/x":          "7",
		"50%off":         "8",
		"500/x":          "9",
		"a_b/1":          "10",
		"axb/1":          "11",
		"a_b":            "12",
		"réplica/ü":      "13",
		"réplica/ü/deep": "14",
		"réplicax":       "15",
	} {
		if err := s.PutMeta(ctx, k, v); err != nil {
			t.Fatalf("PutMeta(%q) = %v", k, err)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   map[string]string
	}{
		{"replica/", map[string]string{"replica/a": "1", "replica/b": "2", "replica/": "3"}},
		{"50%", map[string]string{"50%/x": "7", "50%off": "8"}},
		{"50%/", map[string]string{"50%/x": "7"}},
		{"a_b/", map[string]string{"a_b/1": "10"}},
		{"a_", map[string]string{"a_b/1": "10", "a_b": "12"}},
		{"réplica/", map[string]string{"réplica/ü": "13", "réplica/ü/deep": "14"}},
		{"%", map[string]string{}},
		{"_", map[string]string{}},
		{"nothing/", map[string]string{}},
	} {
		got, err := s.ListMeta(ctx, tc.prefix)
		if err != nil {
			t.Fatalf("ListMeta(%q) = %v", tc.prefix, err)
		}
		if got == nil {
			t.Errorf("ListMeta(%q) = nil map, want an empty one", tc.prefix)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ListMeta(%q) (-want +got):\n%s", tc.prefix, diff)
		}
	}
	all, err := s.ListMeta(ctx, "")
	if err != nil {
		t.Fatalf("ListMeta(\"\") = %v", err)
	}
	if len(all) != 17 || all["vault_fingerprint"] != "fp-2" || all["schema_note"] != "" {
		t.Errorf("ListMeta(\"\") = %d entries %v, want all 17", len(all), all)
	}
}
