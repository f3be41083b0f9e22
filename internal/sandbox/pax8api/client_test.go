package pax8api_test

import (
	"context"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/sandbox/pax8api"
	"github.com/grantd/grantd/pax8"
)

// TestClientCoversSandbox runs every service of the pax8 client against
// the sandbox API (token and bearer checks included) and checks that each
// call succeeds and returns consistent data, so that the emulator serves
// everything the client calls.
func TestClientCoversSandbox(t *testing.T) {
	s := startSandbox(t, pax8api.Size{})
	c := s.client(2)
	ctx := t.Context()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Companies: list, all, get, create, update.
	page, err := c.Companies.List(ctx, &pax8.CompanyListOptions{ListOptions: pax8.ListOptions{Size: 5}})
	must("Companies.List", err)
	if len(page.Content) != 5 || page.Page.TotalElements != pax8api.DefaultCompanies {
		t.Errorf("Companies.List = %d items of %d, want 5 of %d", len(page.Content), page.Page.TotalElements, pax8api.DefaultCompanies)
	}
	n := 0
	for _, err := range c.Companies.All(ctx, nil) {
		must("Companies.All", err)
		n++
	}
	if n != pax8api.DefaultCompanies {
		t.Errorf("Companies.All = %d, want %d", n, pax8api.DefaultCompanies)
	}
	co, err := c.Companies.Get(ctx, page.Content[0].ID)
	must("Companies.Get", err)
	if co.Name != page.Content[0].Name {
		t.Errorf("Companies.Get name = %q, want %q", co.Name, page.Content[0].Name)
	}
	created, err := c.Companies.Create(ctx, &pax8.Company{Name: "Zenith Test Co",
		Address: pax8.Address{Street: "1 Main St", City: "Denver", StateOrProvince: "CO", PostalCode: "80202", Country: "US"},
		Phone:   "3035550100", Website: "zenith.example"})
	must("Companies.Create", err)
	if created.ID == "" || created.Status != pax8.CompanyInactive {
		t.Errorf("Companies.Create = id %q status %q, want an id and Inactive (no primary contacts)", created.ID, created.Status)
	}
	name := "Zenith Test Company"
	upd, err := c.Companies.Update(ctx, created.ID, &pax8.CompanyUpdate{Name: &name})
	must("Companies.Update", err)
	if upd.Name != name {
		t.Errorf("Companies.Update name = %q, want %q", upd.Name, name)
	}

	// Contacts: create, list, get, update, delete.
	ct, err := c.Contacts.Create(ctx, created.ID, &pax8.Contact{FirstName: "Ada", LastName: "Lovelace", Email: "ada@zenith.example",
		Phone: "3035550101", Types: []pax8.ContactType{{Type: "Admin", Primary: true}}})
	must("Contacts.Create", err)
	cts, err := c.Contacts.List(ctx, created.ID, nil)
	must("Contacts.List", err)
	if len(cts.Content) != 1 {
		t.Errorf("Contacts.List = %d, want 1", len(cts.Content))
	}
	got, err := c.Contacts.Get(ctx, created.ID, ct.ID)
	must("Contacts.Get", err)
	got.LastName = "King"
	_, err = c.Contacts.Update(ctx, created.ID, ct.ID, got)
	must("Contacts.Update", err)
	must("Contacts.Delete", c.Contacts.Delete(ctx, created.ID, ct.ID))

	// Products: list, get, provision details, pricing, dependencies.
	prods, err := c.Products.List(ctx, &pax8.ProductListOptions{ListOptions: pax8.ListOptions{Size: 3}})
	must("Products.List", err)
	pid := prods.Content[0].ID
	_, err = c.Products.Get(ctx, pid)
	must("Products.Get", err)
	_, err = c.Products.ProvisionDetails(ctx, pid)
	must("Products.ProvisionDetails", err)
	_, err = c.Products.Pricing(ctx, pid, co.ID)
	must("Products.Pricing", err)
	_, err = c.Products.Dependencies(ctx, pid)
	must("Products.Dependencies", err)

	// Subscriptions: list, get, history, update, cancel.
	subs, err := c.Subscriptions.List(ctx, &pax8.SubscriptionListOptions{Status: pax8.SubscriptionActive, ListOptions: pax8.ListOptions{Size: 10}})
	must("Subscriptions.List", err)
	sub := subs.Content[0]
	_, err = c.Subscriptions.Get(ctx, sub.ID)
	must("Subscriptions.Get", err)
	_, err = c.Subscriptions.History(ctx, sub.ID)
	must("Subscriptions.History", err)
	q := sub.Quantity + 1
	updated, err := c.Subscriptions.Update(ctx, sub.ID, &pax8.SubscriptionUpdate{Quantity: &q})
	must("Subscriptions.Update", err)
	if updated.Quantity != q {
		t.Errorf("Subscriptions.Update quantity = %v, want %v", updated.Quantity, q)
	}
	must("Subscriptions.Cancel", c.Subscriptions.Cancel(ctx, subs.Content[1].ID, time.Time{}))

	// Orders: list, get, create.
	orders, err := c.Orders.List(ctx, nil)
	must("Orders.List", err)
	if len(orders.Content) > 0 {
		_, err = c.Orders.Get(ctx, orders.Content[0].ID)
		must("Orders.Get", err)
	}
	createOrder(ctx, t, c, co.ID)

	// Invoices: list, get, items.
	invs, err := c.Invoices.List(ctx, nil)
	must("Invoices.List", err)
	if len(invs.Content) == 0 {
		t.Fatal("Invoices.List is empty; the sandbox seeds invoices")
	}
	_, err = c.Invoices.Get(ctx, invs.Content[0].ID)
	must("Invoices.Get", err)
	_, err = c.Invoices.Items(ctx, invs.Content[0].ID, nil)
	must("Invoices.Items", err)

	// Usage summaries: for a subscription, get, lines.
	found := false
	for s, err := range c.Subscriptions.All(ctx, nil) {
		must("Subscriptions.All", err)
		us, err := c.UsageSummaries.ListForSubscription(ctx, s.ID, nil)
		must("UsageSummaries.ListForSubscription", err)
		if len(us.Content) == 0 {
			continue
		}
		_, err = c.UsageSummaries.Get(ctx, us.Content[0].ID)
		must("UsageSummaries.Get", err)
		_, err = c.UsageSummaries.Lines(ctx, us.Content[0].ID, nil)
		must("UsageSummaries.Lines", err)
		found = true
		break
	}
	if !found {
		t.Error("no subscription has usage summaries; the sandbox seeds them")
	}
}

// createOrder orders one unit of the first product that needs no other
// product, answering its provisioning details and taking its first
// commitment term when it needs one.
func createOrder(ctx context.Context, t *testing.T, c *pax8.Client, companyID string) {
	t.Helper()
	for p, err := range c.Products.All(ctx, nil) {
		if err != nil {
			t.Fatalf("Products.All: %v", err)
		}
		deps, err := c.Products.Dependencies(ctx, p.ID)
		if err != nil {
			t.Fatalf("Products.Dependencies: %v", err)
		}
		details, err := c.Products.ProvisionDetails(ctx, p.ID)
		if err != nil {
			t.Fatalf("Products.ProvisionDetails: %v", err)
		}
		pricing, err := c.Products.Pricing(ctx, p.ID, companyID)
		if err != nil || len(pricing) == 0 || len(deps.ProductDependencies) > 0 {
			continue
		}
		line := pax8.LineItemCreate{ProductID: p.ID, LineItemNumber: 1, Quantity: 1, BillingTerm: pricing[0].BillingTerm}
		for _, d := range details {
			v := "zenith.example"
			if len(d.PossibleValues) > 0 {
				v = d.PossibleValues[0]
			}
			line.ProvisioningDetails = append(line.ProvisioningDetails, pax8.ProvisioningValue{Key: d.Key, Values: []string{v}})
		}
		if len(deps.CommitmentDependencies) > 0 {
			line.CommitmentTermID = deps.CommitmentDependencies[0].ID
		}
		o, err := c.Orders.Create(ctx, &pax8.OrderCreate{CompanyID: companyID, LineItems: []pax8.LineItemCreate{line}}, false)
		if err != nil {
			t.Fatalf("Orders.Create(%s): %v", p.ID, err)
		}
		if _, err := c.Orders.Get(ctx, o.ID); err != nil {
			t.Fatalf("Orders.Get(created): %v", err)
		}
		return
	}
	t.Error("no product can be ordered without a base product")
}
