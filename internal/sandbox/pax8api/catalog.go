package pax8api

import (
	"fmt"
	"slices"
	"strings"
)

// productSpec is one hand-written catalogue entry: what a partner would find
// in Pax8's marketplace.
type productSpec struct {
	vendor, name, unit string
	price              float64 // suggested retail price per unit per month
	commitment         bool    // Microsoft NCE style: a commitment term is required
	usage              bool    // billed in arrears from usage summaries
	terms              []string
	kind               string // provisioning detail set: microsoft, email, backup, generic
}

var (
	termsMonthly       = []string{"Monthly"}
	termsMonthlyAnnual = []string{"Monthly", "Annual"}
	termsNCE           = []string{"Monthly", "Annual", "3-Year"}
)

// productSpecs is the base catalogue; larger sizes repeat it as further plans.
var productSpecs = []productSpec{
	{"Microsoft", "Microsoft 365 Business Basic", "User", 6.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft 365 Business Standard", "User", 12.50, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft 365 Business Premium", "User", 22.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft 365 E3", "User", 36.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft 365 E5", "User", 57.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft Office 365 E1", "User", 10.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft Office 365 E3", "User", 23.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Exchange Online (Plan 1)", "User", 4.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Exchange Online (Plan 2)", "User", 8.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft Teams Essentials", "User", 4.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft Defender for Business", "User", 3.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft Entra ID P1", "User", 6.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft Intune Plan 1", "User", 8.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft 365 Apps for business", "User", 8.25, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Visio Plan 2", "User", 15.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Project Plan 3", "User", 30.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Power BI Pro", "User", 14.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft 365 Copilot", "User", 30.00, true, false, []string{"Annual", "3-Year"}, "microsoft"},
	{"Microsoft", "Windows 365 Business 2 vCPU 8 GB", "User", 41.00, true, false, termsNCE, "microsoft"},
	{"Microsoft", "Microsoft Azure Plan", "Usage", 0, false, true, termsMonthly, "microsoft"},
	{"Acronis", "Acronis Cyber Protect Cloud - Workstation", "Device", 4.50, false, false, termsMonthly, "backup"},
	{"Acronis", "Acronis Cyber Protect Cloud - Server", "Device", 25.00, false, false, termsMonthly, "backup"},
	{"Acronis", "Acronis Cyber Protect Cloud - Backup Storage", "GB", 0.06, false, true, termsMonthly, "backup"},
	{"Proofpoint", "Proofpoint Essentials - Business", "User", 2.50, false, false, termsMonthlyAnnual, "email"},
	{"Proofpoint", "Proofpoint Essentials - Professional", "User", 3.25, false, false, termsMonthlyAnnual, "email"},
	{"Proofpoint", "Proofpoint Essentials - Advanced", "User", 4.50, false, false, termsMonthlyAnnual, "email"},
	{"Sophos", "Sophos Intercept X Advanced", "User", 3.80, false, false, termsMonthlyAnnual, "generic"},
	{"Sophos", "Sophos MDR Complete", "User", 9.00, false, false, termsMonthlyAnnual, "generic"},
	{"SentinelOne", "SentinelOne Singularity Core", "Device", 3.50, false, false, termsMonthly, "generic"},
	{"SentinelOne", "SentinelOne Singularity Control", "Device", 4.75, false, false, termsMonthly, "generic"},
	{"SentinelOne", "SentinelOne Singularity Complete", "Device", 6.50, false, false, termsMonthly, "generic"},
	{"Bitdefender", "Bitdefender GravityZone Business Security", "Device", 2.20, false, false, termsMonthly, "generic"},
	{"Keeper Security", "Keeper Business", "User", 3.75, false, false, termsMonthlyAnnual, "generic"},
	{"Keeper Security", "Keeper Enterprise", "User", 5.00, false, false, termsMonthlyAnnual, "generic"},
	{"Google", "Google Workspace Business Starter", "User", 7.20, false, false, termsMonthlyAnnual, "email"},
	{"Google", "Google Workspace Business Standard", "User", 14.40, false, false, termsMonthlyAnnual, "email"},
	{"Cisco", "Cisco Duo Essentials", "User", 3.00, false, false, termsMonthlyAnnual, "generic"},
	{"Cisco", "Cisco Duo Advantage", "User", 6.00, false, false, termsMonthlyAnnual, "generic"},
	{"Dropbox", "Dropbox Business Standard", "User", 15.00, false, false, termsMonthlyAnnual, "email"},
	{"Wasabi", "Wasabi Hot Cloud Storage", "TB", 6.99, false, true, termsMonthly, "generic"},
}

// dependencySpecs names, per product, the products it requires.
var dependencySpecs = map[string][]string{
	"Microsoft 365 Copilot":                        {"Microsoft 365 Business Standard", "Microsoft 365 Business Premium", "Microsoft 365 E3", "Microsoft 365 E5"},
	"Microsoft Defender for Business":              {"Microsoft 365 Business Basic", "Microsoft 365 Business Standard"},
	"Acronis Cyber Protect Cloud - Backup Storage": {"Acronis Cyber Protect Cloud - Workstation", "Acronis Cyber Protect Cloud - Server"},
}

// product is one catalogue entry with everything the product endpoints
// serve. Products are shared by all partners and never change.
type product struct {
	ID                 string
	Name               string
	VendorName         string
	ShortDescription   string
	Description        string
	Sku                string
	VendorSku          string
	RequiresCommitment bool

	unit        string
	price       float64
	usage       bool
	terms       []string
	kind        string
	commitments []commitment
	requires    []string // names of required products
}

// commitment is a commitment term a product offers (the Dependencies
// schema's Commitment); orders for products that require commitment name one
// by id.
type commitment struct {
	ID                             string `json:"id"`
	Term                           string `json:"term"`
	AutoRenew                      bool   `json:"autoRenew"`
	RenewalWindowDaysBeforeTermEnd int    `json:"renewalWindowDaysBeforeTermEnd"`
	RenewalWindowDaysAfterTermEnd  int    `json:"renewalWindowDaysAfterTermEnd"`
	AllowForQuantityIncrease       bool   `json:"allowForQuantityIncrease"`
	AllowForQuantityDecrease       bool   `json:"allowForQuantityDecrease"`
	AllowForEarlyCancellation      bool   `json:"allowForEarlyCancellation"`
	CancellationFeeApplied         bool   `json:"cancellationFeeApplied"`
	IsTransferable                 bool   `json:"isTransferable"`

	months int
}

// catalog is the product list with an index by id.
type catalog struct {
	products []*product
	byID     map[string]*product
	byName   map[string]*product
}

// newCatalog builds n products from productSpecs, repeating the base list as
// further plans when n is larger. Ids depend only on the seed.
func newCatalog(seed int64, n int) *catalog {
	g := newRNG(seed, "pax8api/catalog")
	c := &catalog{byID: make(map[string]*product, n), byName: make(map[string]*product, n)}
	for i := range n {
		s := productSpecs[i%len(productSpecs)]
		name := s.name
		if round := i / len(productSpecs); round > 0 {
			name = fmt.Sprintf("%s - Plan %d", s.name, round+1)
		}
		p := &product{
			ID:                 g.uuid(),
			Name:               name,
			VendorName:         s.vendor,
			ShortDescription:   fmt.Sprintf("%s from %s, licensed per %s.", name, s.vendor, strings.ToLower(s.unit)),
			Description:        fmt.Sprintf("%s is sold through Pax8 by %s. It is billed per %s and provisioned automatically once the order is placed.", name, s.vendor, strings.ToLower(s.unit)),
			Sku:                fmt.Sprintf("%s-%03d-%04d", strings.ToUpper(s.vendor[:3]), g.intn(1000), g.intn(10000)),
			VendorSku:          fmt.Sprintf("%s-%s", strings.ToUpper(s.vendor[:2]), strings.ToUpper(g.uuid()[:8])),
			RequiresCommitment: s.commitment,
			unit:               s.unit,
			price:              s.price,
			usage:              s.usage,
			terms:              s.terms,
			kind:               s.kind,
			requires:           dependencySpecs[s.name],
		}
		if s.commitment {
			for _, t := range []struct {
				term   string
				months int
			}{{"Monthly", 1}, {"1-Year", 12}, {"3-Year", 36}} {
				p.commitments = append(p.commitments, commitment{
					ID: g.uuid(), Term: t.term, AutoRenew: true,
					RenewalWindowDaysBeforeTermEnd: 7, RenewalWindowDaysAfterTermEnd: 7 * min(t.months, 1),
					AllowForQuantityIncrease: true, AllowForQuantityDecrease: t.months == 1,
					AllowForEarlyCancellation: true, CancellationFeeApplied: t.months > 1,
					IsTransferable: t.months > 1, months: t.months,
				})
			}
		}
		c.products = append(c.products, p)
		c.byID[p.ID] = p
		if _, dup := c.byName[p.Name]; !dup {
			c.byName[p.Name] = p
		}
	}
	return c
}

// commitmentFor returns the commitment term matching a billing term: NCE
// monthly billing defaults to the annual commitment, "3-Year" to three years.
func (p *product) commitmentFor(billingTerm string) *commitment {
	if !p.RequiresCommitment {
		return nil
	}
	want := "1-Year"
	if billingTerm == "3-Year" {
		want = "3-Year"
	}
	for i := range p.commitments {
		if p.commitments[i].Term == want {
			return &p.commitments[i]
		}
	}
	return nil
}

// commitmentByID returns the product's commitment term with that id.
func (p *product) commitmentByID(id string) *commitment {
	for i := range p.commitments {
		if p.commitments[i].ID == id {
			return &p.commitments[i]
		}
	}
	return nil
}

// offers reports whether the product can be bought with that billing term.
func (p *product) offers(billingTerm string) bool {
	return slices.Contains(p.terms, billingTerm)
}

// unitPrice returns the retail price of one unit for one billing period of
// the term, and the partner's cost.
func (p *product) unitPrice(billingTerm string) (price, cost float64) {
	monthly := p.price
	switch billingTerm {
	case "Annual":
		monthly *= 12
	case "3-Year":
		monthly *= 12 * 0.95 // billed annually over the term, with a small discount
	}
	return money(monthly), money(monthly * 0.82)
}
