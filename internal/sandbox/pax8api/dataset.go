package pax8api

import (
	"sync"
	"time"
)

// dataset is one partner's data. Its lock guards every field that writes
// change; handlers copy records out under the read lock and never edit
// slices shared with earlier copies in place.
type dataset struct {
	mu   sync.RWMutex
	seed int64
	rng  *rng // continues the generation stream, so new ids are deterministic too

	partnerName string
	userID      string
	userEmail   string

	companies    []*company
	companyByID  map[string]*company
	contacts     map[string][]*contact // by company id, in creation order
	contactCount int

	subs          []*subscription
	subByID       map[string]*subscription
	subsByCompany map[string][]*subscription
	history       map[string][]subscription // by subscription id, oldest first

	orders          []*order
	orderByID       map[string]*order
	ordersByCompany map[string][]*order

	invoices     []*invoice
	invoiceByID  map[string]*invoice
	invoiceItems map[string][]*invoiceItem

	usage      []*usageSummary
	usageByID  map[string]*usageSummary
	usageBySub map[string][]*usageSummary

	seeded        bool // discrepancies were seeded (see SeedDiscrepancies)
	discrepancies []Discrepancy
}

func newDataset(seed int64, g *rng, size Size) *dataset {
	return &dataset{
		seed:            seed,
		rng:             g,
		companyByID:     make(map[string]*company, size.Companies),
		contacts:        make(map[string][]*contact, size.Companies),
		subByID:         make(map[string]*subscription, size.Subscriptions),
		subsByCompany:   make(map[string][]*subscription, size.Companies),
		history:         make(map[string][]subscription),
		orderByID:       make(map[string]*order, size.Subscriptions),
		ordersByCompany: make(map[string][]*order, size.Companies),
		invoiceByID:     make(map[string]*invoice),
		invoiceItems:    make(map[string][]*invoiceItem),
		usageByID:       make(map[string]*usageSummary),
		usageBySub:      make(map[string][]*usageSummary),
	}
}

func (d *dataset) addCompany(c *company) {
	d.companies = append(d.companies, c)
	d.companyByID[c.ID] = c
}

func (d *dataset) addSubscription(s *subscription) {
	d.subs = append(d.subs, s)
	d.subByID[s.ID] = s
	d.subsByCompany[s.CompanyID] = append(d.subsByCompany[s.CompanyID], s)
}

func (d *dataset) addOrder(o *order) {
	d.orders = append(d.orders, o)
	d.orderByID[o.ID] = o
	d.ordersByCompany[o.CompanyID] = append(d.ordersByCompany[o.CompanyID], o)
}

// newSubscription builds an Active subscription for a product bought on
// start; the caller sets the commitment and stores it.
func (d *dataset) newSubscription(co *company, p *product, term string, qty int, start, created time.Time) *subscription {
	price, cost := p.unitPrice(term)
	s := &subscription{
		ID:           d.rng.uuid(),
		CompanyID:    co.ID,
		ProductID:    p.ID,
		VendorSkuID:  p.VendorSku,
		Quantity:     qty,
		StartDate:    stamp(start),
		CreatedDate:  stamp(created),
		UpdatedDate:  stamp(created),
		BillingStart: day(start),
		Status:       "Active",
		Price:        price,
		CurrencyCode: "USD",
		PartnerCost:  cost,
		ProductName:  p.Name,
		BillingTerm:  term,
		start:        start,
	}
	if p.VendorName == "Microsoft" {
		s.VendorSubscriptionID = d.rng.uuid()
	}
	return s
}
