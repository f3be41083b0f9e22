package pax8api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// lineItem is Pax8's LineItem schema as read back.
type lineItem struct {
	ID                   string `json:"id,omitempty"`
	ProductID            string `json:"productId"`
	SubscriptionID       string `json:"subscriptionId,omitempty"`
	CommitmentTermID     string `json:"commitmentTermId,omitempty"`
	ProvisionStartDate   string `json:"provisionStartDate,omitempty"`
	BillingTerm          string `json:"billingTerm"`
	ParentSubscriptionID string `json:"parentSubscriptionId,omitempty"`
	Quantity             int    `json:"quantity"`
}

// order is Pax8's Order schema. Orders read back orderedBy "Pax8Partner"
// although creating one takes "Pax8 Partner" (provider facts §1.9).
type order struct {
	ID                 string     `json:"id,omitempty"`
	CompanyID          string     `json:"companyId"`
	CreatedDate        string     `json:"createdDate"`
	OrderedBy          string     `json:"orderedBy"`
	OrderedByUserID    string     `json:"orderedByUserId,omitempty"`
	OrderedByUserEmail string     `json:"orderedByUserEmail,omitempty"`
	IsScheduled        bool       `json:"isScheduled"`
	LineItems          []lineItem `json:"lineItems"`
}

// orderedByPartner is how the live API reads back orders placed by a partner.
const orderedByPartner = "Pax8Partner"

// orderInput is Pax8's CreateOrder schema.
type orderInput struct {
	CompanyID          *string         `json:"companyId"`
	OrderedBy          *string         `json:"orderedBy"`
	OrderedByUserEmail *string         `json:"orderedByUserEmail"`
	LineItems          []lineItemInput `json:"lineItems"`
}

// lineItemInput is Pax8's CreateLineItem schema. encoding/json matches keys
// case-insensitively, so the spec example's "commitmentTermID" spelling is
// accepted too.
type lineItemInput struct {
	ProductID            *string      `json:"productId"`
	CommitmentTermID     *string      `json:"commitmentTermId"`
	ProvisionStartDate   *string      `json:"provisionStartDate"`
	LineItemNumber       *json.Number `json:"lineItemNumber"`
	BillingTerm          *string      `json:"billingTerm"`
	ParentSubscriptionID *string      `json:"parentSubscriptionId"`
	Quantity             *json.Number `json:"quantity"`
	ProvisioningDetails  []struct {
		Key    string   `json:"key"`
		Values []string `json:"values"`
	} `json:"provisioningDetails"`
}

// checkedLine is a validated line item.
type checkedLine struct {
	product    *product
	quantity   int
	term       string
	commitment *commitment
	start      time.Time
	parentID   string
}

// validateOrder checks an order against the partner's data, returning the
// company and the line items ready to provision. The caller holds the lock.
func (d *dataset) validateOrder(in *orderInput, cat *catalog, now time.Time) (*company, []checkedLine, error) {
	var v validation
	var co *company
	switch {
	case blank(in.CompanyID):
		v.addf("companyId is required")
	default:
		c, ok := d.companyByID[*in.CompanyID]
		switch {
		case !ok:
			v.addf("Company Not Found: %s", *in.CompanyID)
		case c.Status != companyActive:
			v.addf("company %s is %s; orders need an Active company", c.ID, c.Status)
		default:
			co = c
		}
	}
	if in.OrderedBy != nil && !slices.Contains([]string{"Pax8 Partner", "Customer", "Pax8"}, *in.OrderedBy) {
		v.addf("orderedBy must be one of Pax8 Partner, Customer, Pax8")
	}
	if len(in.LineItems) == 0 {
		v.addf("lineItems is required")
	}
	lines := make([]checkedLine, 0, len(in.LineItems))
	numbers := map[int64]bool{}
	for i, li := range in.LineItems {
		at := fmt.Sprintf("lineItems[%d].", i)
		var cl checkedLine
		if blank(li.ProductID) {
			v.addf("%sproductId is required", at)
		} else if p, ok := cat.byID[*li.ProductID]; !ok {
			v.addf("%sProduct Not Found: %s", at, *li.ProductID)
		} else {
			cl.product = p
		}
		if n, ok := positiveInt(li.Quantity); !ok {
			v.addf("%squantity is required and must be a positive integer", at)
		} else {
			cl.quantity = int(n)
		}
		if n, ok := positiveInt(li.LineItemNumber); !ok {
			v.addf("%slineItemNumber is required and must be a positive integer", at)
		} else if numbers[n] {
			v.addf("%slineItemNumber %d is used twice", at, n)
		} else {
			numbers[n] = true
		}
		switch {
		case blank(li.BillingTerm):
			v.addf("%sbillingTerm is required", at)
		case !slices.Contains(billingTerms, *li.BillingTerm):
			v.addf("%sbillingTerm %q is not a valid billing term", at, *li.BillingTerm)
		case cl.product != nil && !cl.product.offers(*li.BillingTerm):
			v.addf("%sbillingTerm %s is not offered for product %s", at, *li.BillingTerm, cl.product.ID)
		default:
			cl.term = *li.BillingTerm
		}
		if cl.product != nil && cl.product.RequiresCommitment {
			if blank(li.CommitmentTermID) {
				v.addf("%scommitmentTermId is required for product %s", at, cl.product.ID)
			} else if cl.commitment = cl.product.commitmentByID(*li.CommitmentTermID); cl.commitment == nil {
				v.addf("%scommitmentTermId %s is not a commitment term of product %s", at, *li.CommitmentTermID, cl.product.ID)
			}
		}
		cl.start = now
		if li.ProvisionStartDate != nil {
			t, err := parseTime(*li.ProvisionStartDate)
			switch {
			case err != nil:
				v.addf("%sprovisionStartDate must be an RFC 3339 date-time", at)
			case t.After(now):
				v.addf("%sprovisionStartDate is in the future: scheduled orders are not supported", at)
			default:
				cl.start = t
			}
		}
		if !blank(li.ParentSubscriptionID) {
			if _, ok := d.subByID[*li.ParentSubscriptionID]; !ok {
				v.addf("%sSubscription Not Found: %s", at, *li.ParentSubscriptionID)
			}
			cl.parentID = *li.ParentSubscriptionID
		}
		lines = append(lines, cl)
	}
	if err := v.err("Invalid order"); err != nil {
		return nil, nil, err
	}
	return co, lines, nil
}

// positiveInt reads an integer JSON number greater than zero.
func positiveInt(n *json.Number) (int64, bool) {
	if n == nil {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil && v > 0
}

// createOrder validates and places an order, creating one subscription per
// line item (Active immediately: the sandbox provisions instantly). With
// isMock=true it only validates and returns the order without ids, storing
// nothing.
func (a *API) createOrder(w http.ResponseWriter, r *http.Request, d *dataset) error {
	mock := false
	if s := r.URL.Query().Get("isMock"); s != "" {
		var err error
		if mock, err = strconv.ParseBool(s); err != nil {
			return badParam("Invalid value for parameter isMock: %q", s)
		}
	}
	var in orderInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	now := a.now()
	if mock {
		d.mu.RLock()
		defer d.mu.RUnlock()
	} else {
		d.mu.Lock()
		defer d.mu.Unlock()
	}
	co, lines, err := d.validateOrder(&in, a.catalog, now)
	if err != nil {
		return err
	}
	o := order{
		CompanyID:          co.ID,
		CreatedDate:        day(now),
		OrderedBy:          orderedByPartner,
		OrderedByUserID:    d.userID,
		OrderedByUserEmail: d.userEmail,
		LineItems:          make([]lineItem, 0, len(lines)),
	}
	if in.OrderedBy != nil && *in.OrderedBy != "Pax8 Partner" {
		o.OrderedBy = *in.OrderedBy
	}
	if !blank(in.OrderedByUserEmail) {
		o.OrderedByUserEmail = *in.OrderedByUserEmail
	}
	for _, cl := range lines {
		li := lineItem{
			ProductID: cl.product.ID, BillingTerm: cl.term, Quantity: cl.quantity,
			ProvisionStartDate: stamp(cl.start), ParentSubscriptionID: cl.parentID,
		}
		if cl.commitment != nil {
			li.CommitmentTermID = cl.commitment.ID
		}
		o.LineItems = append(o.LineItems, li)
	}
	if mock {
		writeJSON(w, http.StatusOK, o)
		return nil
	}
	o.ID = d.rng.uuid()
	for i, cl := range lines {
		s := d.newSubscription(co, cl.product, cl.term, cl.quantity, cl.start, now)
		s.ParentSubscriptionID = cl.parentID
		if cl.commitment != nil {
			s.Commitment = &subscriptionCommitment{
				ID: cl.commitment.ID, Term: cl.commitment.Term,
				EndDate: stamp(cl.start.AddDate(0, cl.commitment.months, 0)),
			}
		}
		d.addSubscription(s)
		o.LineItems[i].ID = d.rng.uuid()
		o.LineItems[i].SubscriptionID = s.ID
	}
	d.addOrder(&o)
	writeJSON(w, http.StatusOK, o)
	return nil
}

// listOrders filters by companyId; an unknown company is a 404.
func (a *API) listOrders(w http.ResponseWriter, r *http.Request, d *dataset) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	companyID := q.Get("companyId")
	d.mu.RLock()
	defer d.mu.RUnlock()
	list := d.orders
	if companyID != "" {
		if _, err := d.company(companyID); err != nil {
			return err
		}
		list = d.ordersByCompany[companyID]
	}
	writeJSON(w, http.StatusOK, pageOf(list, p))
	return nil
}

func (a *API) getOrder(w http.ResponseWriter, r *http.Request, d *dataset) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id := r.PathValue("orderId")
	o, ok := d.orderByID[id]
	if !ok {
		return notFound("Order", id)
	}
	writeJSON(w, http.StatusOK, *o)
	return nil
}
