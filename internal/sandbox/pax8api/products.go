package pax8api

import (
	"net/http"
	"strings"
)

// productView is Pax8's Product schema (list items); productDetail adds the
// long description.
type productView struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	VendorName         string `json:"vendorName"`
	ShortDescription   string `json:"shortDescription"`
	Sku                string `json:"sku"`
	VendorSku          string `json:"vendorSku"`
	RequiresCommitment bool   `json:"requiresCommitment"`
}

type productDetail struct {
	productView
	Description string `json:"description"`
}

func (p *product) view() productView {
	return productView{
		ID: p.ID, Name: p.Name, VendorName: p.VendorName, ShortDescription: p.ShortDescription,
		Sku: p.Sku, VendorSku: p.VendorSku, RequiresCommitment: p.RequiresCommitment,
	}
}

// provisioningDetail is Pax8's ProvisioningDetail schema as returned by
// provision-details.
type provisioningDetail struct {
	Label          string   `json:"label"`
	Key            string   `json:"key"`
	Description    string   `json:"description,omitempty"`
	ValueType      string   `json:"valueType"`
	PossibleValues []string `json:"possibleValues,omitempty"`
}

// provisioningSets are the details each kind of product asks for, after the
// Microsoft example in Pax8's spec.
var provisioningSets = map[string][]provisioningDetail{
	"microsoft": {
		{Label: "Does the customer have an existing Microsoft account and can they log into https://login.microsoftonline.com?", Key: "msCustExists", ValueType: "Single-Value",
			PossibleValues: []string{"No, the customer does not have a Microsoft account", "Yes, the customer has and can log into their Microsoft account"}},
		{Label: "Desired .onmicrosoft.com Customer Domain Prefix", Key: "msDomain", ValueType: "Input",
			Description: "Do not include the TLD when entering your domain (e.g. mydomain.onmicrosoft.com should be entered as mydomain"},
		{Label: "Microsoft Customer Tenant ID", Key: "msTenantId", ValueType: "Input"},
		{Label: "Contact First Name", Key: "mca2020FirstName", ValueType: "Input"},
		{Label: "Contact Last Name", Key: "mca2020LastName", ValueType: "Input"},
		{Label: "Contact Email", Key: "mca2020Email", ValueType: "Input"},
	},
	"backup": {
		{Label: "Acronis Login Name", Key: "acronisLogin", ValueType: "Input", Description: "The administrator login to create in the Acronis tenant"},
		{Label: "Data Center", Key: "acronisDataCenter", ValueType: "Single-Value", PossibleValues: []string{"US East", "US West", "EU", "Australia"}},
	},
	"email": {
		{Label: "Primary Domain", Key: "primaryDomain", ValueType: "Input", Description: "The customer's primary email domain"},
		{Label: "Admin Email Address", Key: "adminEmailAddress", ValueType: "Input"},
	},
	"generic": {
		{Label: "User Email Address", Key: "userEmailAddress", ValueType: "Input", Description: "Provide the user's email address"},
		{Label: "Features", Key: "features", ValueType: "Multi-Value", PossibleValues: []string{"Reporting", "Alerting", "API Access"}},
	},
}

// rate and pricing are Pax8's Rate and Pricing schemas. A nil
// EndQuantityRange is sent as null: "If null there is no end of range".
type rate struct {
	PartnerBuyRate       float64 `json:"partnerBuyRate"`
	SuggestedRetailPrice float64 `json:"suggestedRetailPrice"`
	StartQuantityRange   int     `json:"startQuantityRange"`
	EndQuantityRange     *int    `json:"endQuantityRange"`
	ChargeType           string  `json:"chargeType"`
}

func upTo(n int) *int { return &n }

type pricing struct {
	ProductID              string `json:"productId"`
	ProductName            string `json:"productName"`
	BillingTerm            string `json:"billingTerm"`
	CommitmentTerm         string `json:"commitmentTerm,omitempty"`
	CommitmentTermInMonths int    `json:"commitmentTermInMonths,omitempty"`
	Type                   string `json:"type"`
	UnitOfMeasurement      string `json:"unitOfMeasurement"`
	Rates                  []rate `json:"rates"`
}

// pricings lists the product's price per billing term: flat per-unit rates
// for commitment products, volume tiers for the rest (the last one
// open-ended), and an open-ended mark-up for usage-billed ones.
func (p *product) pricings() []pricing {
	var out []pricing
	for _, term := range p.terms {
		price, cost := p.unitPrice(term)
		pr := pricing{ProductID: p.ID, ProductName: p.Name, BillingTerm: term, UnitOfMeasurement: p.unit}
		switch {
		case p.usage:
			pr.Type = "Mark-Up"
			pr.Rates = []rate{{PartnerBuyRate: price, SuggestedRetailPrice: money(price * 1.15), StartQuantityRange: 0, ChargeType: "Per Unit"}}
		case p.RequiresCommitment:
			pr.Type = "Flat"
			if c := p.commitmentFor(term); c != nil {
				pr.CommitmentTerm, pr.CommitmentTermInMonths = c.Term, c.months
			}
			pr.Rates = []rate{{PartnerBuyRate: cost, SuggestedRetailPrice: price, StartQuantityRange: 1, EndQuantityRange: upTo(300), ChargeType: "Per Unit"}}
		default:
			pr.Type = "Volume"
			pr.Rates = []rate{
				{PartnerBuyRate: cost, SuggestedRetailPrice: price, StartQuantityRange: 1, EndQuantityRange: upTo(50), ChargeType: "Per Unit"},
				{PartnerBuyRate: money(cost * 0.9), SuggestedRetailPrice: money(price * 0.9), StartQuantityRange: 51, EndQuantityRange: upTo(250), ChargeType: "Per Unit"},
				{PartnerBuyRate: money(cost * 0.8), SuggestedRetailPrice: money(price * 0.8), StartQuantityRange: 251, ChargeType: "Per Unit"},
			}
		}
		out = append(out, pr)
	}
	return out
}

// dependencies is Pax8's Dependencies schema.
type dependencies struct {
	CommitmentDependencies []commitment        `json:"commitmentDependencies"`
	ProductDependencies    []productDependency `json:"productDependencies"`
}

type productDependency struct {
	Name     string        `json:"name"`
	Products []productView `json:"products"`
}

var productSort = sortKeys[product]{
	"name":   byString(func(p *product) string { return p.Name }),
	"vendor": byString(func(p *product) string { return p.VendorName }),
}

// product returns the catalogue product with that id or a Pax8 404.
func (c *catalog) product(id string) (*product, error) {
	p, ok := c.byID[id]
	if !ok {
		return nil, notFound("Product", id)
	}
	return p, nil
}

// listProducts filters by vendorName (exact, case-insensitive) and search
// (substring of name, vendor or SKU).
func (a *API) listProducts(w http.ResponseWriter, r *http.Request, _ *dataset) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	vendor, search := q.Get("vendorName"), strings.ToLower(q.Get("search"))
	var out []*product
	for _, pr := range a.catalog.products {
		if vendor != "" && !strings.EqualFold(pr.VendorName, vendor) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(pr.Name+"\x00"+pr.VendorName+"\x00"+pr.Sku), search) {
			continue
		}
		out = append(out, pr)
	}
	if err := sortBy(out, q, productSort); err != nil {
		return err
	}
	views := make([]*productView, len(out))
	for i, pr := range out {
		v := pr.view()
		views[i] = &v
	}
	writeJSON(w, http.StatusOK, pageOf(views, p))
	return nil
}

func (a *API) getProduct(w http.ResponseWriter, r *http.Request, _ *dataset) error {
	p, err := a.catalog.product(r.PathValue("productId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, productDetail{productView: p.view(), Description: p.Description})
	return nil
}

func (a *API) getProvisionDetails(w http.ResponseWriter, r *http.Request, _ *dataset) error {
	p, err := a.catalog.product(r.PathValue("productId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wrapped[provisioningDetail]{Content: provisioningSets[p.kind]})
	return nil
}

// getPricing returns the product's pricing; with companyId it checks that the
// company is the partner's (prices are the same for every company here).
func (a *API) getPricing(w http.ResponseWriter, r *http.Request, d *dataset) error {
	p, err := a.catalog.product(r.PathValue("productId"))
	if err != nil {
		return err
	}
	if id := r.URL.Query().Get("companyId"); id != "" {
		d.mu.RLock()
		_, err := d.company(id)
		d.mu.RUnlock()
		if err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, wrapped[pricing]{Content: p.pricings()})
	return nil
}

func (a *API) getDependencies(w http.ResponseWriter, r *http.Request, _ *dataset) error {
	p, err := a.catalog.product(r.PathValue("productId"))
	if err != nil {
		return err
	}
	deps := dependencies{CommitmentDependencies: p.commitments, ProductDependencies: []productDependency{}}
	if deps.CommitmentDependencies == nil {
		deps.CommitmentDependencies = []commitment{}
	}
	if len(p.requires) > 0 {
		dep := productDependency{Name: "Requires one of", Products: []productView{}}
		for _, name := range p.requires {
			if req, ok := a.catalog.byName[name]; ok {
				dep.Products = append(dep.Products, req.view())
			}
		}
		deps.ProductDependencies = append(deps.ProductDependencies, dep)
	}
	writeJSON(w, http.StatusOK, deps)
	return nil
}
