package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

func testBilling(t *testing.T, s store.Store) {
	ctx := t.Context()
	list := func(tenant, period string) []store.BillingLine {
		t.Helper()
		got, err := s.ListBilling(ctx, tenant, period)
		if err != nil {
			t.Fatalf("ListBilling(%q, %q) = %v", tenant, period, err)
		}
		return got
	}
	if got := list("t1", "2026-11"); len(got) != 0 {
		t.Errorf("ListBilling(empty) = %v, want none", got)
	}
	// Exact decimals survive as written, trailing zeros included.
	nov := []store.BillingLine{
		{Line: 2, OrgID: "org-2", Product: "m365-bp", Quantity: "3", UnitPrice: "22.00"},
		{Line: 1, OrgID: "org-1", Product: "m365-bp", Quantity: "12", UnitPrice: "19.123456789012345678"},
	}
	if err := s.PutBilling(ctx, "t1", "2026-11", nov); err != nil {
		t.Fatalf("PutBilling = %v", err)
	}
	if err := s.PutBilling(ctx, "t1", "2026-10", []store.BillingLine{{Line: 1, OrgID: "org-1", Product: "x", Quantity: "1", UnitPrice: "1"}}); err != nil {
		t.Fatalf("PutBilling(October) = %v", err)
	}
	if err := s.PutBilling(ctx, "t2", "2026-11", []store.BillingLine{{Line: 1, OrgID: "org-1", Product: "y", Quantity: "2", UnitPrice: "2"}}); err != nil {
		t.Fatalf("PutBilling(t2) = %v", err)
	}
	want := []store.BillingLine{
		{TenantID: "t1", Period: "2026-11", Line: 1, OrgID: "org-1", Product: "m365-bp", Quantity: "12", UnitPrice: "19.123456789012345678"},
		{TenantID: "t1", Period: "2026-11", Line: 2, OrgID: "org-2", Product: "m365-bp", Quantity: "3", UnitPrice: "22.00"},
	}
	if diff := cmp.Diff(want, list("t1", "2026-11")); diff != "" {
		t.Errorf("ListBilling(t1, 2026-11) (-want +got):\n%s", diff)
	}
	// A repeated line number fails and leaves the period as it was.
	dup := []store.BillingLine{{Line: 1, OrgID: "o", Product: "p", Quantity: "1", UnitPrice: "1"}, {Line: 1, OrgID: "o", Product: "q", Quantity: "1", UnitPrice: "1"}}
	if err := s.PutBilling(ctx, "t1", "2026-11", dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("PutBilling(duplicate line) = %v, want ErrAlreadyExists", err)
	}
	if diff := cmp.Diff(want, list("t1", "2026-11")); diff != "" {
		t.Errorf("ListBilling after a failed put (-want +got):\n%s", diff)
	}
	// Put replaces the period, and only it.
	if err := s.PutBilling(ctx, "t1", "2026-11", nov[:1]); err != nil {
		t.Fatalf("PutBilling(replace) = %v", err)
	}
	if got := list("t1", "2026-11"); len(got) != 1 || got[0].OrgID != "org-2" {
		t.Errorf("ListBilling after replace = %+v, want org-2's line", got)
	}
	if got := list("t1", "2026-10"); len(got) != 1 {
		t.Errorf("ListBilling(October) after replacing November = %+v, want one line", got)
	}
	if got := list("t2", "2026-11"); len(got) != 1 || got[0].Product != "y" {
		t.Errorf("ListBilling(t2) = %+v, want t2's own line", got)
	}
	if err := s.PutBilling(ctx, "t1", "2026-11", nil); err != nil {
		t.Fatalf("PutBilling(nil) = %v", err)
	}
	if got := list("t1", "2026-11"); len(got) != 0 {
		t.Errorf("ListBilling after clearing = %v, want none", got)
	}
}

func testProductMappings(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0), newConnection("c2", "t1", 0))
	m1 := store.ProductMapping{TenantID: "t1", ConnectionID: "c1", ProductKey: "m365-bp", ExternalID: "p-1", ExternalName: "Microsoft 365 Business Premium", UpdatedAt: at(0)}
	m2 := store.ProductMapping{TenantID: "t1", ConnectionID: "c1", ProductKey: "av", ExternalID: "p-2", ExternalName: "Antivirus", UpdatedAt: at(0)}
	other := store.ProductMapping{TenantID: "t1", ConnectionID: "c2", ProductKey: "av", ExternalID: "p-9", ExternalName: "Antivirus", UpdatedAt: at(0)}
	for _, m := range []store.ProductMapping{m1, m2, other} {
		if err := s.PutProductMapping(ctx, m); err != nil {
			t.Fatalf("PutProductMapping(%q) = %v", m.ProductKey, err)
		}
	}
	list := func(conn string) []store.ProductMapping {
		t.Helper()
		got, err := s.ListProductMappings(ctx, conn)
		if err != nil {
			t.Fatalf("ListProductMappings(%q) = %v", conn, err)
		}
		return got
	}
	if diff := cmp.Diff([]store.ProductMapping{m2, m1}, list("c1"), cmpOpts); diff != "" {
		t.Errorf("ListProductMappings(c1) (-want +got):\n%s", diff)
	}
	m1b := m1
	m1b.ExternalID, m1b.UpdatedAt = "p-3", at(time.Hour)
	if err := s.PutProductMapping(ctx, m1b); err != nil {
		t.Fatalf("PutProductMapping(replace) = %v", err)
	}
	if diff := cmp.Diff([]store.ProductMapping{m2, m1b}, list("c1"), cmpOpts); diff != "" {
		t.Errorf("ListProductMappings(c1) after replace (-want +got):\n%s", diff)
	}
	if err := s.DeleteProductMapping(ctx, "c1", "av"); err != nil {
		t.Fatalf("DeleteProductMapping = %v", err)
	}
	if err := s.DeleteProductMapping(ctx, "c1", "av"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteProductMapping(again) = %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff([]store.ProductMapping{other}, list("c2"), cmpOpts); diff != "" {
		t.Errorf("ListProductMappings(c2) (-want +got):\n%s", diff)
	}
	orphan := store.ProductMapping{TenantID: "t1", ConnectionID: "nope", ProductKey: "x", ExternalID: "p"}
	if err := s.PutProductMapping(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutProductMapping(unknown connection) = %v, want ErrNotFound", err)
	}
	// Deleting the connection takes its product mappings.
	if err := s.DeleteConnection(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if got := list("c1"); len(got) != 0 {
		t.Errorf("ListProductMappings after DeleteConnection = %v, want none", got)
	}
}
