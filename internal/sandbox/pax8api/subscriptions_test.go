package pax8api

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSubscriptionFilters(t *testing.T) {
	s := newTestServer(t, Options{Seed: 9, Size: Size{Subscriptions: 800}})
	all := allPages[subscription](s, "/subscriptions")
	if len(all) != 800 {
		t.Fatalf("walked %d subscriptions, want 800", len(all))
	}
	ref := all[17]
	filters := map[string]func(x subscription) bool{
		"status=Active":              func(x subscription) bool { return x.Status == "Active" },
		"status=Cancelled":           func(x subscription) bool { return x.Status == "Cancelled" },
		"billingTerm=Annual":         func(x subscription) bool { return x.BillingTerm == "Annual" },
		"companyId=" + ref.CompanyID: func(x subscription) bool { return x.CompanyID == ref.CompanyID },
		"productId=" + ref.ProductID: func(x subscription) bool { return x.ProductID == ref.ProductID },
		"status=Active&billingTerm=Monthly&companyId=" + ref.CompanyID: func(x subscription) bool {
			return x.Status == "Active" && x.BillingTerm == "Monthly" && x.CompanyID == ref.CompanyID
		},
	}
	for q, match := range filters {
		var want []subscription
		for _, x := range all {
			if match(x) {
				want = append(want, x)
			}
		}
		got := allPages[subscription](s, "/subscriptions?"+q)
		if len(want) == 0 {
			t.Errorf("filter %s matches nothing in the generated data", q)
		}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(subscription{})); diff != "" {
			t.Errorf("GET /subscriptions?%s (-want +got):\n%s", q, diff)
		}
	}
	e := call[pax8Error](s, "", http.MethodGet, "/subscriptions?companyId=unknown", nil, http.StatusForbidden)
	if e.Message != "Invalid companyId" {
		t.Errorf("unknown companyId: %+v", e)
	}
	for _, q := range []string{"status=Paused", "billingTerm=Weekly", "sort=color,asc"} {
		call[pax8Error](s, "", http.MethodGet, "/subscriptions?"+q, nil, http.StatusBadRequest)
	}
	sorted := get[paged[subscription]](s, "/subscriptions?size=200&sort=quantity,desc").Content
	for i := 1; i < len(sorted); i++ {
		if sorted[i-1].Quantity < sorted[i].Quantity {
			t.Fatalf("sort=quantity,desc out of order at %d: %d then %d", i, sorted[i-1].Quantity, sorted[i].Quantity)
		}
	}
}

// activeSubscription returns an Active subscription of partner-a.
func activeSubscription(t *testing.T, s *testServer) subscription {
	t.Helper()
	return get[paged[subscription]](s, "/subscriptions?status=Active&size=1").Content[0]
}

func TestUpdateSubscription(t *testing.T) {
	s := newTestServer(t, Options{Seed: 4})
	sub := activeSubscription(t, s)
	path := "/subscriptions/" + sub.ID
	future := fixedNow.Add(48 * time.Hour).Format(time.RFC3339)
	tests := []struct {
		name       string
		body       any
		wantDetail string
	}{
		{"no updatable field", map[string]any{"currencyCode": "USD"}, "at least one of the following fields is required"},
		{"empty body", map[string]any{}, "at least one of the following fields is required"},
		{"future startDate", map[string]any{"startDate": future}, "future startDate is not supported"},
		{"zero quantity", map[string]any{"quantity": 0}, "quantity must be a positive integer"},
		{"bad billingTerm", map[string]any{"billingTerm": "Fortnightly"}, "is not a valid billing term"},
		{"negative price", map[string]any{"price": -1}, "price must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := call[pax8Error](s, "", http.MethodPut, path, tt.body, http.StatusUnprocessableEntity)
			if !hasDetail(e, tt.wantDetail) {
				t.Errorf("PUT %s = %+v, want detail %q", path, e, tt.wantDetail)
			}
		})
	}
	if got := get[subscription](s, path); !cmp.Equal(got, sub, cmpopts.IgnoreUnexported(subscription{})) {
		t.Fatalf("rejected updates changed the subscription")
	}

	got := call[subscription](s, "", http.MethodPut, path, map[string]any{"quantity": sub.Quantity + 3, "price": 9.99}, http.StatusOK)
	if got.Quantity != sub.Quantity+3 || got.Price != 9.99 || got.UpdatedDate != "2026-03-15T12:00:00Z" {
		t.Errorf("PUT result = %+v", got)
	}
	hist := get[wrapped[subscription]](s, path+"/history").Content
	if len(hist) != 2 || hist[0].Quantity != sub.Quantity+3 || hist[1].Quantity != sub.Quantity {
		t.Errorf("history after one update = %+v, want [new, old]", hist)
	}
}

func TestCancelSubscription(t *testing.T) {
	s := newTestServer(t, Options{Seed: 4})
	subs := get[paged[subscription]](s, "/subscriptions?status=Active&size=2").Content
	now, later := subs[0], subs[1]

	call[struct{}](s, "", http.MethodDelete, "/subscriptions/"+now.ID, nil, http.StatusNoContent)
	if got := get[subscription](s, "/subscriptions/"+now.ID); got.Status != "Cancelled" || got.EndDate != "2026-03-15T12:00:00Z" {
		t.Errorf("after DELETE: status %q endDate %q, want Cancelled at now", got.Status, got.EndDate)
	}
	if hist := get[wrapped[subscription]](s, "/subscriptions/"+now.ID+"/history").Content; len(hist) != 2 || hist[0].Status != "Cancelled" || hist[1].Status != "Active" {
		t.Errorf("history after cancel = %+v", hist)
	}
	e := call[pax8Error](s, "", http.MethodDelete, "/subscriptions/"+now.ID, nil, http.StatusUnprocessableEntity)
	if !hasDetail(e, "already cancelled") {
		t.Errorf("second DELETE = %+v", e)
	}
	call[pax8Error](s, "", http.MethodPut, "/subscriptions/"+now.ID, map[string]any{"quantity": 2}, http.StatusUnprocessableEntity)

	cancelDate := "2026-04-30T00:00:00Z"
	call[struct{}](s, "", http.MethodDelete, "/subscriptions/"+later.ID+"?cancelDate="+url.QueryEscape(cancelDate), nil, http.StatusNoContent)
	if got := get[subscription](s, "/subscriptions/"+later.ID); got.Status != "PendingCancel" || got.EndDate != cancelDate {
		t.Errorf("after DELETE with a future cancelDate: status %q endDate %q, want PendingCancel at %s", got.Status, got.EndDate, cancelDate)
	}
	call[pax8Error](s, "", http.MethodDelete, "/subscriptions/"+later.ID+"?cancelDate=2026-04-30", nil, http.StatusBadRequest)
	call[pax8Error](s, "", http.MethodDelete, "/subscriptions/nope", nil, http.StatusNotFound)
}
