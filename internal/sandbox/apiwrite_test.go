package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/pax8"
)

// partnerClient is a pax8 client on the sandbox with the partner's API
// credentials, through the package's JSON token source, without retries.
func partnerClient(e *env) *pax8.Client {
	cred := pax8.Credentials{ClientID: clientID, ClientSecret: clientSecret, TokenURL: e.ep.APITokenURL}
	return pax8.NewClient(cred.Client(nil), pax8.WithBaseURL(e.ep.APIBaseURL), pax8.WithMaxRetries(0))
}

// TestAPIAnswerLostAfterWrite: the after-write faults apply the write and
// then lose its answer, for each of the four writes, and leave reads alone.
func TestAPIAnswerLostAfterWrite(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	c := partnerClient(e)
	ctx := e.ctx()

	var sub pax8.Subscription
	for s, err := range c.Subscriptions.All(ctx, &pax8.SubscriptionListOptions{Status: pax8.SubscriptionActive}) {
		if err != nil {
			t.Fatal(err)
		}
		sub = s
		break
	}
	var prod pax8.Product
	for p, err := range c.Products.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if !p.RequiresCommitment && p.VendorName != "Microsoft" {
			prod = p
			break
		}
	}
	companies := func() int {
		p, err := c.Companies.List(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p.Page.TotalElements
	}
	orders := func() int {
		p, err := c.Orders.List(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p.Page.TotalElements
	}

	for _, kind := range []string{"server_error_after", "drop_after"} {
		t.Run(kind, func(t *testing.T) {
			fault := func() {
				t.Helper()
				if err := e.s.AddFault(sandbox.Fault{Kind: kind, Endpoint: "api"}); err != nil {
					t.Fatal(err)
				}
				// A read does not use up an after-write fault.
				if _, err := c.Subscriptions.Get(ctx, sub.ID); err != nil {
					t.Fatalf("read with a pending %s fault: %v", kind, err)
				}
			}
			lost := func(op string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s succeeded, want the answer lost", op)
				}
				if pe, ok := errors.AsType[*pax8.Error](err); kind == "server_error_after" && (!ok || pe.Status != http.StatusInternalServerError) {
					t.Errorf("%s: err = %v, want a 500", op, err)
				}
			}

			n := companies()
			fault()
			_, err := c.Companies.Create(ctx, &pax8.Company{Name: "Lost Answer " + kind, Phone: "555-0100", Website: "https://example.com",
				Address: pax8.Address{Street: "1 Main St", City: "Denver", PostalCode: "80202", Country: "US", StateOrProvince: "CO"}})
			lost("create_company", err)
			if got := companies(); got != n+1 {
				t.Errorf("companies after a lost create = %d, want %d (the write applied)", got, n+1)
			}

			n = orders()
			fault()
			_, err = c.Orders.Create(ctx, &pax8.OrderCreate{CompanyID: sub.CompanyID, LineItems: []pax8.LineItemCreate{
				{ProductID: prod.ID, LineItemNumber: 1, Quantity: 2, BillingTerm: pax8.BillingMonthly}}}, false)
			lost("create_order", err)
			if got := orders(); got != n+1 {
				t.Errorf("orders after a lost create = %d, want %d", got, n+1)
			}

			want := sub.Quantity + 3
			if kind == "drop_after" {
				want++
			}
			fault()
			_, err = c.Subscriptions.Update(ctx, sub.ID, &pax8.SubscriptionUpdate{Quantity: new(want)})
			lost("update_subscription", err)
			if got, err := c.Subscriptions.Get(ctx, sub.ID); err != nil || got.Quantity != want {
				t.Errorf("quantity after a lost update = %v, %v; want %v", got.Quantity, err, want)
			}
		})
	}

	t.Run("cancel", func(t *testing.T) {
		if err := e.s.AddFault(sandbox.Fault{Kind: "drop_after", Endpoint: "api"}); err != nil {
			t.Fatal(err)
		}
		err := c.Subscriptions.Cancel(ctx, sub.ID, time.Time{})
		if err == nil {
			t.Fatal("cancel succeeded, want the connection dropped")
		}
		got, err := c.Subscriptions.Get(ctx, sub.ID)
		if err != nil || got.Status == pax8.SubscriptionActive {
			t.Errorf("subscription after a lost cancel = %v, %v; want it no longer Active", got.Status, err)
		}
	})

	// A refused write answers as usual (and uses up the fault).
	if err := e.s.AddFault(sandbox.Fault{Kind: "server_error_after", Endpoint: "api"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Subscriptions.Update(ctx, "no-such-subscription", &pax8.SubscriptionUpdate{Quantity: new(pax8.Number(1))})
	if !errors.Is(err, pax8.ErrNotFound) {
		t.Errorf("update of a missing subscription under the fault: err = %v, want 404", err)
	}
}

// TestAPIRateLimit: the rate_limited switch and the api_rate_limit bucket
// answer 429 in Pax8's words.
func TestAPIRateLimit(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	c := partnerClient(e)
	ctx, cancel := context.WithTimeout(e.ctx(), 30*time.Second)
	defer cancel()
	check := func(what string, err error) {
		t.Helper()
		pe, ok := errors.AsType[*pax8.Error](err)
		if !ok || pe.Status != http.StatusTooManyRequests || pe.Message != "Too many requests hit the API quickly" || pe.RetryAfter <= 0 {
			t.Errorf("%s: err = %v, want 429 %q with Retry-After", what, err, "Too many requests hit the API quickly")
		}
	}

	e.s.Configure(sandbox.Pax8, sandbox.Settings{RateLimited: true})
	_, err := c.Companies.List(ctx, nil)
	check("rate_limited", err)

	e.s.Configure(sandbox.Pax8, sandbox.Settings{APIRateLimit: 0.001, APIRateBurst: 2})
	for i := range 2 {
		if _, err := c.Companies.List(ctx, nil); err != nil {
			t.Fatalf("call %d within the burst: %v", i+1, err)
		}
	}
	_, err = c.Companies.List(ctx, nil)
	check("beyond api_rate_limit's burst", err)
	if got := e.s.Stats().Providers[sandbox.Pax8].APICalls["429"]; got != 2 {
		t.Errorf("api_calls[429] = %d, want 2", got)
	}
}
