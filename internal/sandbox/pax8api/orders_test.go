package pax8api

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// orderFixture finds, in partner-a's data, an Active company, a product that
// requires commitment (with one of its commitment term ids) and one that
// does not.
type orderFixture struct {
	companyID, inactiveID    string
	nceProduct, plainProduct productView
	commitmentID             string
}

func newOrderFixture(t *testing.T, s *testServer) orderFixture {
	t.Helper()
	var f orderFixture
	f.companyID = get[paged[company]](s, "/companies?status=Active&size=1").Content[0].ID
	f.inactiveID = call[company](s, "", http.MethodPost, "/companies", validCompany(), http.StatusOK).ID
	for _, p := range allPages[productView](s, "/products") {
		switch {
		case p.RequiresCommitment && f.nceProduct.ID == "":
			f.nceProduct = p
		case !p.RequiresCommitment && f.plainProduct.ID == "" && p.VendorName == "Proofpoint":
			f.plainProduct = p
		}
	}
	deps := get[dependencies](s, "/products/"+f.nceProduct.ID+"/dependencies")
	if len(deps.CommitmentDependencies) == 0 {
		t.Fatalf("product %s requires commitment but lists no commitment terms", f.nceProduct.ID)
	}
	f.commitmentID = deps.CommitmentDependencies[1].ID
	return f
}

func (f orderFixture) body() map[string]any {
	return map[string]any{
		"companyId": f.companyID,
		"orderedBy": "Pax8 Partner",
		"lineItems": []any{
			map[string]any{"productId": f.nceProduct.ID, "commitmentTermId": f.commitmentID, "lineItemNumber": 1, "billingTerm": "Monthly", "quantity": 5},
			map[string]any{"productId": f.plainProduct.ID, "lineItemNumber": 2, "billingTerm": "Monthly", "quantity": 12,
				"provisionStartDate": fixedNow.Add(-time.Hour).Format(time.RFC3339)},
		},
	}
}

func line(m map[string]any, i int) map[string]any { return m["lineItems"].([]any)[i].(map[string]any) }

func TestCreateOrderValidation(t *testing.T) {
	s := newTestServer(t, Options{Seed: 2})
	f := newOrderFixture(t, s)
	tests := []struct {
		name       string
		edit       func(m map[string]any)
		wantDetail string
	}{
		{"missing companyId", func(m map[string]any) { delete(m, "companyId") }, "companyId is required"},
		{"unknown company", func(m map[string]any) { m["companyId"] = "00000000-0000-4000-8000-000000000000" }, "Company Not Found: 00000000-0000-4000-8000-000000000000"},
		{"inactive company", func(m map[string]any) { m["companyId"] = f.inactiveID }, "orders need an Active company"},
		{"missing lineItems", func(m map[string]any) { delete(m, "lineItems") }, "lineItems is required"},
		{"empty lineItems", func(m map[string]any) { m["lineItems"] = []any{} }, "lineItems is required"},
		{"missing productId", func(m map[string]any) { delete(line(m, 1), "productId") }, "lineItems[1].productId is required"},
		{"unknown product", func(m map[string]any) { line(m, 1)["productId"] = "nope" }, "lineItems[1].Product Not Found: nope"},
		{"zero quantity", func(m map[string]any) { line(m, 0)["quantity"] = 0 }, "lineItems[0].quantity is required and must be a positive integer"},
		{"fractional quantity", func(m map[string]any) { line(m, 0)["quantity"] = 1.5 }, "lineItems[0].quantity"},
		{"missing quantity", func(m map[string]any) { delete(line(m, 0), "quantity") }, "lineItems[0].quantity"},
		{"missing billingTerm", func(m map[string]any) { delete(line(m, 0), "billingTerm") }, "lineItems[0].billingTerm is required"},
		{"bad billingTerm", func(m map[string]any) { line(m, 0)["billingTerm"] = "Weekly" }, `lineItems[0].billingTerm "Weekly" is not a valid billing term`},
		{"term not offered", func(m map[string]any) { line(m, 1)["billingTerm"] = "3-Year" }, "lineItems[1].billingTerm 3-Year is not offered"},
		{"missing lineItemNumber", func(m map[string]any) { delete(line(m, 0), "lineItemNumber") }, "lineItems[0].lineItemNumber is required"},
		{"duplicate lineItemNumber", func(m map[string]any) { line(m, 1)["lineItemNumber"] = 1 }, "lineItems[1].lineItemNumber 1 is used twice"},
		{"missing commitmentTermId", func(m map[string]any) { delete(line(m, 0), "commitmentTermId") }, "lineItems[0].commitmentTermId is required"},
		{"foreign commitmentTermId", func(m map[string]any) { line(m, 0)["commitmentTermId"] = "c000effb-98c9-4ea0-bf00-f6112c6d7649" }, "is not a commitment term of product"},
		{"scheduled order", func(m map[string]any) {
			line(m, 1)["provisionStartDate"] = fixedNow.Add(24 * time.Hour).Format(time.RFC3339)
		}, "scheduled orders are not supported"},
		{"bad provisionStartDate", func(m map[string]any) { line(m, 1)["provisionStartDate"] = "tomorrow" }, "provisionStartDate must be an RFC 3339 date-time"},
		{"bad orderedBy", func(m map[string]any) { m["orderedBy"] = "Pax8Partner" }, "orderedBy must be one of"},
	}
	_, before := s.api.Counts("partner-a")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := f.body()
			tt.edit(body)
			for _, mock := range []string{"", "?isMock=true"} {
				got := call[pax8Error](s, "", http.MethodPost, "/orders"+mock, body, http.StatusUnprocessableEntity)
				if got.Type != "UNPROCESSABLE_ENTITY" || !hasDetail(got, tt.wantDetail) {
					t.Errorf("POST /orders%s = %+v, want a detail containing %q", mock, got, tt.wantDetail)
				}
			}
		})
	}
	if _, after := s.api.Counts("partner-a"); after != before {
		t.Errorf("rejected orders changed the subscription count from %d to %d", before, after)
	}
	call[pax8Error](s, "", http.MethodPost, "/orders?isMock=perhaps", f.body(), http.StatusBadRequest)
}

func TestCreateOrder(t *testing.T) {
	s := newTestServer(t, Options{Seed: 2})
	f := newOrderFixture(t, s)
	_, before := s.api.Counts("partner-a")
	ordersBefore := get[paged[order]](s, "/orders").Page.TotalElements

	mock := call[order](s, "", http.MethodPost, "/orders?isMock=true", f.body(), http.StatusOK)
	if mock.ID != "" || len(mock.LineItems) != 2 || mock.LineItems[0].SubscriptionID != "" {
		t.Errorf("mock order = %+v, want the validated order without ids", mock)
	}
	if _, after := s.api.Counts("partner-a"); after != before {
		t.Fatalf("isMock=true created subscriptions: %d -> %d", before, after)
	}

	// The spec's example spells commitmentTermID with a capital D.
	body := f.body()
	line(body, 0)["commitmentTermID"] = line(body, 0)["commitmentTermId"]
	delete(line(body, 0), "commitmentTermId")
	o := call[order](s, "", http.MethodPost, "/orders", body, http.StatusOK)
	if o.ID == "" || o.CompanyID != f.companyID || o.OrderedBy != "Pax8Partner" || o.IsScheduled || o.CreatedDate != "2026-03-15" {
		t.Errorf("created order = %+v", o)
	}
	if _, after := s.api.Counts("partner-a"); after != before+2 {
		t.Errorf("subscriptions after a two-line order = %d, want %d", after, before+2)
	}
	if got := get[order](s, "/orders/"+o.ID); got.ID != o.ID || got.OrderedBy != "Pax8Partner" || len(got.LineItems) != 2 {
		t.Errorf("GET order = %+v", got)
	}
	if got := get[paged[order]](s, "/orders").Page.TotalElements; got != ordersBefore+1 {
		t.Errorf("orders total = %d, want %d", got, ordersBefore+1)
	}
	byCompany := allPages[order](s, "/orders?companyId="+f.companyID)
	if len(byCompany) == 0 || byCompany[len(byCompany)-1].ID != o.ID {
		t.Errorf("GET /orders?companyId= does not end with the new order")
	}
	for _, other := range byCompany {
		if other.CompanyID != f.companyID {
			t.Errorf("GET /orders?companyId=%s returned an order of %s", f.companyID, other.CompanyID)
		}
	}
	call[pax8Error](s, "", http.MethodGet, "/orders?companyId=nope", nil, http.StatusNotFound)

	// The subscriptions read back with the live "commitment" member.
	status, raw := s.do("", http.MethodGet, "/subscriptions/"+o.LineItems[0].SubscriptionID, nil)
	if status != http.StatusOK || !strings.Contains(string(raw), `"commitment":{"id":"`+f.commitmentID) || strings.Contains(string(raw), "commitmentTerm") {
		t.Errorf("GET new subscription = %d %s, want a live-style commitment", status, raw)
	}
	sub := get[subscription](s, "/subscriptions/"+o.LineItems[1].SubscriptionID)
	if sub.Quantity != 12 || sub.Status != "Active" || sub.CompanyID != f.companyID || sub.ProductID != f.plainProduct.ID || sub.Commitment != nil {
		t.Errorf("GET new subscription = %+v", sub)
	}
}
