package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

// testIntegrationBroken: LastError and BrokenAt round-trip through
// UpdateIntegration and are cleared by it.
func testIntegrationBroken(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := newIntegration("i1", "t1", 0)
	if err := s.CreateIntegration(ctx, in); err != nil {
		t.Fatal(err)
	}
	err := s.UpdateIntegration(ctx, "i1", func(cur store.Integration) (store.Integration, error) {
		cur.LastError, cur.BrokenAt = "invalid_client: bad secret", at(time.Minute)
		return cur, nil
	})
	if err != nil {
		t.Fatalf("UpdateIntegration = %v", err)
	}
	got, err := s.GetIntegration(ctx, "i1")
	if err != nil {
		t.Fatal(err)
	}
	if got.LastError != "invalid_client: bad secret" || !got.BrokenAt.Equal(at(time.Minute)) {
		t.Errorf("broken = %q at %v, want invalid_client at %v", got.LastError, got.BrokenAt, at(time.Minute))
	}
	err = s.UpdateIntegration(ctx, "i1", func(cur store.Integration) (store.Integration, error) {
		cur.LastError, cur.BrokenAt = "", time.Time{}
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetIntegration(ctx, "i1"); got.LastError != "" || !got.BrokenAt.IsZero() {
		t.Errorf("after clearing: %q at %v, want nothing", got.LastError, got.BrokenAt)
	}
}

// testDeleteIntegration: an integration in use is refused with
// ErrConflict and kept; an unused one is deleted; a missing one is
// ErrNotFound.
func testDeleteIntegration(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, in := range []store.Integration{newIntegration("i1", "t1", 0), newIntegration("i2", "t1", time.Second)} {
		if err := s.CreateIntegration(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	c := newConnection("c1", "t1", 0)
	c.IntegrationID = "i1"
	mustCreate(t, s, c)
	if err := s.DeleteIntegration(ctx, "i1"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DeleteIntegration(in use) = %v, want ErrConflict", err)
	}
	if _, err := s.GetIntegration(ctx, "i1"); err != nil {
		t.Errorf("GetIntegration(i1) after refused delete = %v", err)
	}
	if err := s.DeleteIntegration(ctx, "i2"); err != nil {
		t.Errorf("DeleteIntegration(i2) = %v", err)
	}
	if _, err := s.GetIntegration(ctx, "i2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIntegration(i2) after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteIntegration(ctx, "i2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteIntegration(i2) again = %v, want ErrNotFound", err)
	}
}

// testListDeliveries: the tenant scope, the state and endpoint filters
// and the keyset cursor; RedeliverDelivery makes a failed delivery pending
// and due.
func testListDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	var ds []store.Delivery
	for i, spec := range []struct{ id, tenant, endpoint string }{
		{"d1", "t1", "e1"}, {"d2", "t2", "e1"}, {"d3", "t1", "e2"}, {"d4", "t1", "e1"},
	} {
		d := newDelivery(spec.id, spec.endpoint, time.Duration(i)*time.Second)
		d.TenantID = spec.tenant
		ds = append(ds, d)
	}
	mustEnqueue(t, s, ds...)
	claimed, err := s.ClaimDeliveries(ctx, "w", []string{"e2"}, at(time.Hour), at(2*time.Hour), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimDeliveries = %v, %v", ids(claimed), err)
	}
	if err := s.FailDelivery(ctx, "d3", "w", at(time.Hour), "410 Gone"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    store.DeliveryFilter
		want []string
	}{
		{"tenant", store.DeliveryFilter{TenantID: "t1"}, []string{"d1", "d3", "d4"}},
		{"all", store.DeliveryFilter{AllTenants: true}, []string{"d1", "d2", "d3", "d4"}},
		{"state", store.DeliveryFilter{TenantID: "t1", State: store.DeliveryFailed}, []string{"d3"}},
		{"endpoint", store.DeliveryFilter{TenantID: "t1", Endpoint: "e1"}, []string{"d1", "d4"}},
		{"page1", store.DeliveryFilter{TenantID: "t1", Limit: 2}, []string{"d1", "d3"}},
		{"page2", store.DeliveryFilter{TenantID: "t1", Limit: 2, After: "d3"}, []string{"d4"}},
		{"other", store.DeliveryFilter{TenantID: "t9"}, nil},
	} {
		got, err := s.ListDeliveries(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: ListDeliveries = %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("%s: ListDeliveries (-want +got):\n%s", tc.name, diff)
		}
	}
	d, err := s.RedeliverDelivery(ctx, "d3", at(3*time.Hour))
	if err != nil {
		t.Fatalf("RedeliverDelivery = %v", err)
	}
	if d.State != store.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(at(3*time.Hour)) || !d.FinishedAt.IsZero() || d.TenantID != "t1" {
		t.Errorf("redelivered = %+v, want pending, 0 attempts, due at +3h, tenant t1", d)
	}
	if _, err := s.RedeliverDelivery(ctx, "nope", at(0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RedeliverDelivery(nope) = %v, want ErrNotFound", err)
	}
}

// testCountConnections counts by provider and status.
func testCountConnections(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b, c := newConnection("c1", "t1", 0), newConnection("c2", "t1", time.Second), newConnection("c3", "t2", 2*time.Second)
	b.Status = store.StatusNeedsReauth
	c.Provider = "paxful"
	mustCreate(t, s, a, b, c)
	got, err := s.CountConnections(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ConnectionCount{
		{Provider: a.Provider, Status: store.StatusActive, Count: 1},
		{Provider: a.Provider, Status: store.StatusNeedsReauth, Count: 1},
		{Provider: "paxful", Status: c.Status, Count: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CountConnections (-want +got):\n%s", diff)
	}
	// One tenant's alone.
	got, err = s.CountConnections(ctx, "t2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[2:], got); diff != "" {
		t.Errorf("CountConnections(t2) (-want +got):\n%s", diff)
	}
}
