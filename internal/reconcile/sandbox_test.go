package reconcile_test

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/reconcile"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/pax8api"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/pax8"
)

const (
	clientID     = "reconcile-test"
	clientSecret = "reconcile-secret"
)

// partner is a sandbox partner reached with client credentials.
type partner struct {
	c       *pax8.Client
	control string // the sandbox's /_sandbox URL
}

func startPartner(t *testing.T, opts sandbox.Options) partner {
	t.Helper()
	s, ep := sandboxtest.Start(t, opts)
	s.RegisterClient(sandbox.Pax8, sandbox.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{"http://127.0.0.1/cb"}, Name: "Reconcile"})
	cred := pax8.Credentials{ClientID: clientID, ClientSecret: clientSecret, TokenURL: ep.APITokenURL}
	c := pax8.NewClient(cred.Client(&http.Client{Timeout: 10 * time.Second}), pax8.WithBaseURL(ep.APIBaseURL), pax8.WithMaxRetries(0))
	return partner{c: c, control: strings.TrimSuffix(ep.Issuer, "/pax8/") + "/_sandbox"}
}

// tenantBook is what a tenant that bills exactly what Pax8 invoiced (at
// Pax8's price) uploads for the period: the honest baseline. Items of
// companies the partner does not have are left out, as no organisation
// maps to them.
func tenantBook(t testing.TB, ctx context.Context, c *pax8.Client, p reconcile.Period) reconcile.Input {
	t.Helper()
	in := reconcile.Input{Period: p, Companies: map[string]string{}, Products: map[string]string{}}
	for co, err := range c.Companies.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		in.Companies[co.ID] = "org-" + co.ID
	}
	type k struct{ org, product string }
	lines := map[k]*reconcile.BillingLine{}
	var order []k
	for _, it := range periodItems(t, ctx, c, p) {
		org, ok := in.Companies[it.CompanyID]
		if !ok {
			continue
		}
		key := k{org, "sku-" + it.ProductID}
		in.Products[key.product] = it.ProductID
		l := lines[key]
		if l == nil {
			l = &reconcile.BillingLine{OrgID: org, Product: key.product}
			lines[key] = l
			order = append(order, key)
		}
		l.Quantity = l.Quantity.Add(pax8.AmountFromInt(1).MulQuantity(it.Quantity))
		l.UnitPrice = it.Price
	}
	for _, key := range order {
		in.Billing = append(in.Billing, *lines[key])
	}
	return in
}

// periodItems returns the items of partner invoices that bill p.
func periodItems(t testing.TB, ctx context.Context, c *pax8.Client, p reconcile.Period) []pax8.InvoiceItem {
	t.Helper()
	var out []pax8.InvoiceItem
	for inv, err := range c.Invoices.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if inv.CompanyID != "" {
			continue
		}
		for it, err := range c.Invoices.AllItems(ctx, inv.ID, nil) {
			if err != nil {
				t.Fatal(err)
			}
			if it.StartPeriod.Year == p.Year && it.StartPeriod.Month == p.Month {
				out = append(out, it)
			}
		}
	}
	return out
}

// latestPeriod is the month the latest partner invoice bills.
func latestPeriod(t testing.TB, ctx context.Context, c *pax8.Client) reconcile.Period {
	t.Helper()
	var latest pax8.Date
	for inv, err := range c.Invoices.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if inv.CompanyID == "" && inv.InvoiceDate.String() > latest.String() {
			latest = inv.InvoiceDate
		}
	}
	d := latest.Time(time.UTC).AddDate(0, -1, 0)
	return reconcile.Period{Year: d.Year(), Month: d.Month()}
}

// flag is a flagged line as the test compares it.
type flag struct {
	Category  reconcile.Category
	CompanyID string
	ProductID string
	AtStake   pax8.Amount
}

func flags(r *reconcile.Report) []flag {
	var out []flag
	for _, l := range r.Flagged() {
		out = append(out, flag{l.Category, l.CompanyID, l.ProductID, l.AtStake.Amount})
	}
	slices.SortFunc(out, compareFlags)
	return out
}

// TestBaselineFlagsNothing: with no discrepancy seeded and a tenant that
// bills what Pax8 invoiced, every line is matched.
func TestBaselineFlagsNothing(t *testing.T) {
	p := startPartner(t, sandbox.Options{})
	ctx := t.Context()
	period := latestPeriod(t, ctx, p.c)
	in := tenantBook(t, ctx, p.c, period)
	if len(in.Billing) == 0 {
		t.Fatalf("no invoice items bill %s", period)
	}
	r, err := reconcile.Run(ctx, p.c, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Flagged(); len(got) != 0 {
		t.Errorf("Run(%s) flagged %d lines, want none: %+v", period, len(got), got)
	}
	if r.Totals[0].Category != reconcile.Matched || r.Totals[0].Lines != len(in.Billing) {
		t.Errorf("matched = %+v, want %d lines", r.Totals[0], len(in.Billing))
	}
	if !r.AtStake.Amount.IsZero() {
		t.Errorf("at stake = %s, want 0", r.AtStake.Amount)
	}
}

// TestSeededDiscrepanciesFound: with the sandbox's discrepancies seeded,
// the reconciliation flags each one, with its category and the money at
// stake computed here from the sandbox's own records, and nothing else.
func TestSeededDiscrepanciesFound(t *testing.T) {
	p := startPartner(t, sandbox.Options{APIDiscrepancies: true})
	ctx := t.Context()
	period := latestPeriod(t, ctx, p.c)
	in := tenantBook(t, ctx, p.c, period)

	resp, err := http.Get(p.control + "/pax8/discrepancies?partner=" + clientID + "@clients")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var listed struct{ Discrepancies []pax8api.Discrepancy }
	if err := json.NewDecoder(resp.Body).Decode(&listed); err != nil || len(listed.Discrepancies) != 5 {
		t.Fatalf("discrepancies = %+v (%v), want 5", listed, err)
	}
	items := map[string]pax8.InvoiceItem{}
	for _, it := range periodItems(t, ctx, p.c, period) {
		items[it.ID] = it
	}
	var want []flag
	for _, d := range listed.Discrepancies {
		it, ok := items[d.InvoiceItemID]
		if !ok {
			t.Fatalf("discrepancy %+v: item not among the items billing %s", d, period)
		}
		f := flag{CompanyID: d.CompanyID, ProductID: it.ProductID}
		var s *pax8.Subscription
		if d.SubscriptionID != "" {
			if s, err = p.c.Subscriptions.Get(ctx, d.SubscriptionID); err != nil {
				t.Fatal(err)
			}
		}
		switch d.Category {
		case pax8api.SeatsNotBilled, pax8api.BilledAfterRemoval:
			diff := int64(d.SubscriptionQuantity - d.BilledQuantity)
			f.Category, f.AtStake = reconcile.QuantityMismatch, s.Price.MulInt(max(diff, -diff))
		case pax8api.PriceBelowCost:
			f.Category, f.AtStake = reconcile.BelowCost, s.PartnerCost.Sub(s.Price).MulInt(int64(d.BilledQuantity))
		case pax8api.CancelledStillCharged:
			f.Category, f.AtStake = reconcile.CancelledButCharged, it.CostTotal
		case pax8api.UnmappedCompany:
			f.Category, f.AtStake = reconcile.UnmappedCompany, it.CostTotal
		default:
			t.Fatalf("unknown category %q", d.Category)
		}
		if f.AtStake.Sign() <= 0 {
			t.Fatalf("discrepancy %+v: nothing at stake", d)
		}
		want = append(want, f)
	}
	slices.SortFunc(want, compareFlags)

	r, err := reconcile.Run(ctx, p.c, in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d lines, %d flagged, walked %+v", period, len(r.Lines), len(r.Flagged()), r.Walked)
	if diff := gocmp.Diff(want, flags(r)); diff != "" {
		t.Errorf("Run(%s) flagged (-want +got):\n%s", period, diff)
	}
}

func compareFlags(a, b flag) int {
	return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.CompanyID, b.CompanyID), cmp.Compare(a.ProductID, b.ProductID))
}
