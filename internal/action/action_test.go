package action_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/pax8"
)

type page[T any] struct {
	Content   []T           `json:"content"`
	Page      pax8.PageInfo `json:"page"`
	Truncated bool          `json:"truncated"`
}

// TestEveryActionAgainstSandbox runs every action of the catalogue against
// the sandbox, with inputs taken from the seeded data: list first, then get,
// update or cancel the first item.
func TestEveryActionAgainstSandbox(t *testing.T) {
	e := newEnv(t, action.Options{})
	ran := map[string]bool{}
	run := func(name string, in, out any) {
		t.Helper()
		e.mustRun(name, in, out)
		ran[name] = true
	}

	var companies page[pax8.Company]
	run("pax8.list_companies", map[string]any{"size": 5}, &companies)
	if len(companies.Content) != 5 || companies.Page.Size != 5 || companies.Page.TotalElements <= 5 {
		t.Fatalf("list_companies size 5 = %d items, page %+v", len(companies.Content), companies.Page)
	}
	co := companies.Content[0]
	var gotCo pax8.Company
	run("pax8.get_company", map[string]any{"company_id": co.ID}, &gotCo)
	if gotCo.ID != co.ID || gotCo.Name != co.Name {
		t.Errorf("get_company = %s %q, want %s %q", gotCo.ID, gotCo.Name, co.ID, co.Name)
	}

	var contacts page[pax8.Contact]
	run("pax8.list_company_contacts", map[string]any{"company_id": co.ID}, &contacts)
	if len(contacts.Content) == 0 {
		t.Fatalf("company %s has no contacts", co.ID)
	}
	var ct pax8.Contact
	run("pax8.get_company_contact", map[string]any{"company_id": co.ID, "contact_id": contacts.Content[0].ID}, &ct)
	if ct.Email != contacts.Content[0].Email {
		t.Errorf("get_company_contact email = %q, want %q", ct.Email, contacts.Content[0].Email)
	}

	var products page[pax8.Product]
	run("pax8.list_products", map[string]any{"size": 50}, &products)
	i := slices.IndexFunc(products.Content, func(p pax8.Product) bool { return !p.RequiresCommitment })
	if i < 0 {
		t.Fatal("no product without a commitment among the first 50")
	}
	prod := products.Content[i]
	var pd pax8.ProductDetail
	run("pax8.get_product", map[string]any{"product_id": prod.ID}, &pd)
	if pd.Name != prod.Name {
		t.Errorf("get_product name = %q, want %q", pd.Name, prod.Name)
	}
	var details []pax8.ProvisioningDetail
	run("pax8.get_product_provision_details", map[string]any{"product_id": prod.ID}, &details)

	var subs page[pax8.Subscription]
	run("pax8.list_subscriptions", map[string]any{"size": 20, "status": "Active"}, &subs)
	if len(subs.Content) == 0 {
		t.Fatal("no active subscriptions")
	}
	sub := subs.Content[0]
	var gotSub pax8.Subscription
	run("pax8.get_subscription", map[string]any{"subscription_id": sub.ID}, &gotSub)
	if gotSub.ID != sub.ID {
		t.Errorf("get_subscription id = %s, want %s", gotSub.ID, sub.ID)
	}
	var updated pax8.Subscription
	run("pax8.update_subscription", map[string]any{"subscription_id": sub.ID, "update": map[string]any{"quantity": sub.Quantity + 1}}, &updated)
	if updated.Quantity != sub.Quantity+1 {
		t.Errorf("update_subscription quantity = %v, want %v", updated.Quantity, sub.Quantity+1)
	}
	var set pax8.Subscription
	run("pax8.set_quantity", map[string]any{"subscription_id": sub.ID, "quantity": sub.Quantity + 2}, &set)
	if set.Quantity != sub.Quantity+2 {
		t.Errorf("set_quantity quantity = %v, want %v", set.Quantity, sub.Quantity+2)
	}
	var cancelled action.Cancelled
	run("pax8.cancel_subscription", map[string]any{"subscription_id": sub.ID}, &cancelled)
	if diff := cmp.Diff(action.Cancelled{SubscriptionID: sub.ID, Cancelled: true}, cancelled); diff != "" {
		t.Errorf("cancel_subscription (-want +got):\n%s", diff)
	}

	var orders page[pax8.Order]
	run("pax8.list_orders", map[string]any{"size": 3}, &orders)
	if len(orders.Content) == 0 {
		t.Fatal("no orders")
	}
	var order pax8.Order
	run("pax8.get_order", map[string]any{"order_id": orders.Content[0].ID}, &order)
	if order.ID != orders.Content[0].ID {
		t.Errorf("get_order id = %s, want %s", order.ID, orders.Content[0].ID)
	}

	var created pax8.Company
	run("pax8.create_company", map[string]any{"company": map[string]any{
		"name": "Grantd Test Co", "phone": "+1 555 0100", "website": "https://test.example",
		"address":               map[string]any{"street": "1 Main St", "city": "Denver", "postalCode": "80202", "country": "US", "stateOrProvince": "CO"},
		"billOnBehalfOfEnabled": false, "selfServiceAllowed": false, "orderApprovalRequired": false,
	}}, &created)
	if created.ID == "" || created.Status != pax8.CompanyInactive {
		t.Errorf("create_company = id %q status %q, want an id and Inactive", created.ID, created.Status)
	}
	var placed pax8.Order
	run("pax8.create_order", map[string]any{"mock": true, "order": map[string]any{
		"companyId": co.ID, "orderedBy": "Pax8 Partner",
		"lineItems": []any{map[string]any{"productId": prod.ID, "lineItemNumber": 1, "quantity": 1, "billingTerm": "Monthly"}},
	}}, &placed)
	if placed.CompanyID != co.ID || len(placed.LineItems) != 1 {
		t.Errorf("create_order = %+v, want one line item for %s", placed, co.ID)
	}

	var invoices page[pax8.Invoice]
	run("pax8.list_invoices", map[string]any{"size": 2}, &invoices)
	if len(invoices.Content) == 0 {
		t.Fatal("no invoices")
	}
	var inv pax8.Invoice
	run("pax8.get_invoice", map[string]any{"invoice_id": invoices.Content[0].ID}, &inv)
	if inv.ID != invoices.Content[0].ID {
		t.Errorf("get_invoice id = %s, want %s", inv.ID, invoices.Content[0].ID)
	}
	var items page[pax8.InvoiceItem]
	run("pax8.list_invoice_items", map[string]any{"invoice_id": inv.ID}, &items)
	if len(items.Content) == 0 {
		t.Errorf("invoice %s has no items", inv.ID)
	}

	for _, a := range action.Catalogue() {
		if !ran[a.Name] {
			t.Errorf("action %s was not run against the sandbox", a.Name)
		}
	}
}

// TestListAll walks every page with all: true and gets what the page
// metadata promised, in order and without duplicates.
func TestListAll(t *testing.T) {
	e := newEnv(t, action.Options{})
	var first page[pax8.Company]
	e.mustRun("pax8.list_companies", map[string]any{"size": 1}, &first)
	var all page[pax8.Company]
	e.mustRun("pax8.list_companies", map[string]any{"all": true, "size": 7}, &all)
	if len(all.Content) != first.Page.TotalElements || all.Truncated {
		t.Errorf("all: %d items (truncated %v), want %d", len(all.Content), all.Truncated, first.Page.TotalElements)
	}
	seen := map[string]bool{}
	for _, c := range all.Content {
		if seen[c.ID] {
			t.Errorf("company %s returned twice", c.ID)
		}
		seen[c.ID] = true
	}
	if len(all.Content) > 0 && all.Content[0].ID != first.Content[0].ID {
		t.Errorf("first item %s, want %s", all.Content[0].ID, first.Content[0].ID)
	}

	// The cap cuts the walk and says so.
	capped := newEnv(t, action.Options{MaxAll: 3})
	var cut page[pax8.Company]
	capped.mustRun("pax8.list_companies", map[string]any{"all": true}, &cut)
	if len(cut.Content) != 3 || !cut.Truncated {
		t.Errorf("capped all: %d items, truncated %v; want 3, true", len(cut.Content), cut.Truncated)
	}
}

// TestCatalogue checks GET /v1/actions lists every action with schemas
// reflected from its types.
func TestCatalogue(t *testing.T) {
	e := newEnv(t, action.Options{})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+"/v1/actions", nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Actions []struct {
			Name, Method, Path string
			Paged              bool
			InputSchema        map[string]any `json:"input_schema"`
			OutputSchema       map[string]any `json:"output_schema"`
		}
	}
	if err := jsonDecode(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range got.Actions {
		names = append(names, a.Name)
		if a.InputSchema["type"] != "object" || a.InputSchema["additionalProperties"] != false {
			t.Errorf("%s input schema = %v, want a strict object", a.Name, a.InputSchema)
		}
		if a.OutputSchema["type"] == nil {
			t.Errorf("%s has no output schema", a.Name)
		}
		if a.Paged != strings.Contains(a.Name, ".list_") {
			t.Errorf("%s paged = %v", a.Name, a.Paged)
		}
	}
	want := []string{
		"pax8.cancel_subscription", "pax8.create_company", "pax8.create_order", "pax8.get_company",
		"pax8.get_company_contact", "pax8.get_invoice", "pax8.get_order", "pax8.get_product",
		"pax8.get_product_provision_details", "pax8.get_subscription", "pax8.list_companies",
		"pax8.list_company_contacts", "pax8.list_invoice_items", "pax8.list_invoices", "pax8.list_orders",
		"pax8.list_products", "pax8.list_subscriptions", "pax8.set_quantity", "pax8.update_subscription",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("catalogue names (-want +got):\n%s", diff)
	}
	a, _ := action.Lookup("pax8.list_subscriptions")
	size := a.InputSchema["properties"].(action.Schema)["size"].(action.Schema)
	if diff := cmp.Diff(action.Schema{"type": "integer", "minimum": 1, "maximum": 200, "description": size["description"]}, size); diff != "" {
		t.Errorf("list_subscriptions size schema (-want +got):\n%s", diff)
	}
	out := a.OutputSchema["properties"].(action.Schema)["content"].(action.Schema)["items"].(action.Schema)["properties"].(action.Schema)
	if diff := cmp.Diff(action.Schema{"type": "string", "format": "date-time"}, out["startDate"]); diff != "" {
		t.Errorf("subscription startDate schema (-want +got):\n%s", diff)
	}
	// Money is an exact decimal written as a JSON number, in and out.
	money := action.Schema{"type": "number", "format": "decimal"}
	if diff := cmp.Diff(money, out["price"]); diff != "" {
		t.Errorf("subscription price schema (-want +got):\n%s", diff)
	}
	u, _ := action.Lookup("pax8.update_subscription")
	in := u.InputSchema["properties"].(action.Schema)["update"].(action.Schema)["properties"].(action.Schema)
	if diff := cmp.Diff(money, in["price"]); diff != "" {
		t.Errorf("update_subscription price schema (-want +got):\n%s", diff)
	}
}
