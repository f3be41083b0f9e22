package pax8api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// Subscription statuses and billing terms from Pax8's Subscription schema.
var (
	subscriptionStatuses = []string{"Active", "Cancelled", "PendingManual", "PendingAutomated", "PendingCancel",
		"WaitingForDetails", "Trial", "Converted", "PendingActivation", "Activated"}
	billingTerms = []string{"Monthly", "Annual", "2-Year", "3-Year", "One-Time", "Trial", "Activation"}
)

// subscriptionCommitment is a subscription's commitment term.
type subscriptionCommitment struct {
	ID      string `json:"id"`
	Term    string `json:"term"`
	EndDate string `json:"endDate"`
}

// subscription is Pax8's Subscription schema as the live API returns it: the
// commitment term arrives as "commitment", not the documented
// "commitmentTerm" (provider facts §1.9, from scheibling/py-pax8), and the
// emulator follows the live name.
type subscription struct {
	ID                   string                  `json:"id"`
	ParentSubscriptionID string                  `json:"parentSubscriptionId,omitempty"`
	CompanyID            string                  `json:"companyId"`
	ProductID            string                  `json:"productId"`
	VendorSubscriptionID string                  `json:"vendorSubscriptionId,omitempty"`
	VendorSkuID          string                  `json:"vendorSkuId,omitempty"`
	Quantity             int                     `json:"quantity"`
	StartDate            string                  `json:"startDate"`
	EndDate              string                  `json:"endDate,omitempty"`
	CreatedDate          string                  `json:"createdDate"`
	UpdatedDate          string                  `json:"updatedDate,omitempty"`
	BillingStart         string                  `json:"billingStart"`
	Status               string                  `json:"status"`
	Price                float64                 `json:"price"`
	CurrencyCode         string                  `json:"currencyCode"`
	PartnerCost          float64                 `json:"partnerCost"`
	ProductName          string                  `json:"productName"`
	BillingTerm          string                  `json:"billingTerm"`
	Commitment           *subscriptionCommitment `json:"commitment,omitempty"`

	start time.Time // StartDate, for the future-date checks
}

var subscriptionSort = sortKeys[subscription]{
	"quantity":     byNumber(func(s *subscription) int { return s.Quantity }),
	"price":        byNumber(func(s *subscription) float64 { return s.Price }),
	"startDate":    byNumber(func(s *subscription) string { return s.StartDate }),
	"createdDate":  byNumber(func(s *subscription) string { return s.CreatedDate }),
	"billingStart": byNumber(func(s *subscription) string { return s.BillingStart }),
	"endDate":      byNumber(func(s *subscription) string { return s.EndDate }),
}

// subscription returns the subscription with that id or a Pax8 404.
func (d *dataset) subscription(id string) (*subscription, error) {
	s, ok := d.subByID[id]
	if !ok {
		return nil, notFound("Subscription", id)
	}
	return s, nil
}

// listSubscriptions filters by status, billingTerm, companyId and productId.
// An unknown companyId is a 403 "Invalid companyId", as Pax8 documents.
func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request, d *dataset) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	status, err := oneOf(q, "status", subscriptionStatuses...)
	if err != nil {
		return err
	}
	term, err := oneOf(q, "billingTerm", billingTerms...)
	if err != nil {
		return err
	}
	companyID, productID := q.Get("companyId"), q.Get("productId")

	d.mu.RLock()
	defer d.mu.RUnlock()
	if companyID != "" {
		if _, ok := d.companyByID[companyID]; !ok {
			return newError(http.StatusForbidden, "FORBIDDEN", "Invalid companyId")
		}
	}
	source := d.subs
	if companyID != "" {
		source = d.subsByCompany[companyID]
	}
	out := make([]*subscription, 0, min(len(source), 1024))
	for _, s := range source {
		if (status == "" || s.Status == status) && (term == "" || s.BillingTerm == term) &&
			(productID == "" || s.ProductID == productID) {
			out = append(out, s)
		}
	}
	if err := sortBy(out, q, subscriptionSort); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(out, p))
	return nil
}

func (a *API) getSubscription(w http.ResponseWriter, r *http.Request, d *dataset) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, err := d.subscription(r.PathValue("subscriptionId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, *s)
	return nil
}

// subscriptionUpdate is the body of PUT /subscriptions/{id}: at least one of
// quantity, price, billingTerm and startDate.
type subscriptionUpdate struct {
	Quantity    *json.Number `json:"quantity"`
	Price       *float64     `json:"price"`
	BillingTerm *string      `json:"billingTerm"`
	StartDate   *string      `json:"startDate"`
}

// updateSubscription applies a PUT. Pax8: "Currently NOT supported for
// subscriptions with a future date", so a startDate after now, or a
// subscription that has not started yet, is a 422; so is a cancelled one.
func (a *API) updateSubscription(w http.ResponseWriter, r *http.Request, d *dataset) error {
	var in subscriptionUpdate
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	now := a.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	old, err := d.subscription(r.PathValue("subscriptionId"))
	if err != nil {
		return err
	}
	next := *old
	var v validation
	if in.Quantity == nil && in.Price == nil && in.BillingTerm == nil && in.StartDate == nil {
		v.addf("at least one of the following fields is required: price, billingTerm, quantity, startDate")
	}
	if in.Quantity != nil {
		if n, err := in.Quantity.Int64(); err != nil || n < 1 {
			v.addf("quantity must be a positive integer")
		} else {
			next.Quantity = int(n)
		}
	}
	if in.Price != nil {
		if *in.Price < 0 {
			v.addf("price must not be negative")
		}
		next.Price = money(*in.Price)
	}
	if in.BillingTerm != nil {
		if !slices.Contains(billingTerms, *in.BillingTerm) {
			v.addf("billingTerm %q is not a valid billing term", *in.BillingTerm)
		}
		next.BillingTerm = *in.BillingTerm
	}
	if in.StartDate != nil {
		t, err := parseTime(*in.StartDate)
		switch {
		case err != nil:
			v.addf("startDate must be an RFC 3339 date-time")
		case t.After(now):
			v.addf("updating a subscription with a future startDate is not supported")
		default:
			next.start, next.StartDate, next.BillingStart = t, stamp(t), day(t)
		}
	}
	if old.start.After(now) {
		v.addf("updating a subscription with a future date is not supported")
	}
	if old.Status == "Cancelled" {
		v.addf("subscription %s is cancelled", old.ID)
	}
	if err := v.err("Invalid Subscription update"); err != nil {
		return err
	}
	next.UpdatedDate = stamp(now)
	d.recordHistory(old, next)
	*old = next
	writeJSON(w, http.StatusOK, next)
	return nil
}

// cancelSubscription handles DELETE. Without cancelDate, or with one that is
// not in the future, the subscription is Cancelled now; with a future
// cancelDate (RFC 3339) it becomes PendingCancel with that endDate. Both are
// recorded in the history.
func (a *API) cancelSubscription(w http.ResponseWriter, r *http.Request, d *dataset) error {
	now := a.now()
	end := now
	if s := r.URL.Query().Get("cancelDate"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return badParam("Invalid value for parameter cancelDate: %q; it must be an RFC 3339 date-time", s)
		}
		end = t
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old, err := d.subscription(r.PathValue("subscriptionId"))
	if err != nil {
		return err
	}
	if old.Status == "Cancelled" {
		return unprocessable("Invalid Subscription cancel", "subscription "+old.ID+" is already cancelled")
	}
	next := *old
	next.Status = "Cancelled"
	if end.After(now) {
		next.Status = "PendingCancel"
	}
	next.EndDate = stamp(end)
	next.UpdatedDate = stamp(now)
	d.recordHistory(old, next)
	*old = next
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// recordHistory appends the new state to the subscription's history, first
// recording the state before the first change.
func (d *dataset) recordHistory(old *subscription, next subscription) {
	h := d.history[old.ID]
	if len(h) == 0 {
		h = append(h, *old)
	}
	d.history[old.ID] = append(h, next)
}

// getSubscriptionHistory returns the subscription's states, newest first, in
// the non-paged {"content":[…]} wrapper. An unchanged subscription has one.
func (a *API) getSubscriptionHistory(w http.ResponseWriter, r *http.Request, d *dataset) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, err := d.subscription(r.PathValue("subscriptionId"))
	if err != nil {
		return err
	}
	h := slices.Clone(d.history[s.ID])
	if len(h) == 0 {
		h = []subscription{*s}
	}
	slices.Reverse(h)
	writeJSON(w, http.StatusOK, wrapped[subscription]{Content: h})
	return nil
}
