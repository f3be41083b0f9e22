package pax8api

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// generate builds a partner's dataset from the seed and partner id. Dates
// are relative to the first day of now's month (UTC), so a fixed clock gives
// identical data and a real one gives data that looks current.
func generate(seed int64, partnerID string, size Size, cat *catalog, now time.Time) *dataset {
	g := newRNG(seed, "pax8api/partner/"+partnerID)
	d := newDataset(seed, g, size)
	anchor := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)

	d.partnerName = pick(g, companyWords) + pick(g, []string{" IT Solutions", " Managed Services", " Technology Partners", " Networks"})
	d.userID = g.uuid()
	d.userEmail = "admin@" + slug(d.partnerName) + ".com"

	genCompanies(d, g, size.Companies, anchor)
	genSubscriptions(d, g, size.Subscriptions, cat, anchor)
	genOrders(d, g)
	genInvoices(d, g, cat, anchor)
	genUsage(d, g, cat, anchor)
	return d
}

// slug turns a name into a lowercase, hyphenated host label.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// daysBefore returns a moment lo..hi days before anchor, at a random time of
// day.
func daysBefore(g *rng, anchor time.Time, lo, hi int) time.Time {
	return anchor.AddDate(0, 0, -g.between(lo, hi)).Add(time.Duration(g.intn(86400)) * time.Second)
}

func genCompanies(d *dataset, g *rng, n int, anchor time.Time) {
	used := make(map[string]bool, n)
	for i := range n {
		words, industry, form := pick(g, companyWords), pick(g, industries), pick(g, legalForms)
		if form != "" && strings.HasSuffix(industry, strings.TrimLeft(form, ", ")) {
			form = "" // "Medical Group", not "Medical Group Group"
		}
		name := words + " " + industry + form
		for k := 2; used[name]; k++ {
			name = fmt.Sprintf("%s %s %d", pick(g, companyWords), pick(g, industries), k)
		}
		used[name] = true
		pl := pick(g, places)
		status := companyActive
		switch x := g.intn(100); {
		case i == 0 || x < 88:
		case x < 96:
			status = companyInactive
		default:
			status = companyDeleted
		}
		c := &company{
			ID:   g.uuid(),
			Name: name,
			Address: address{
				Street:          fmt.Sprintf("%d %s", g.between(100, 99999), pick(g, streetNames)),
				City:            pl.city,
				StateOrProvince: pl.region,
				PostalCode:      pl.postal(g),
				Country:         pl.country,
			},
			Phone:                 fmt.Sprintf("%s-555-%04d", pl.phonePrefix, g.intn(10000)),
			Website:               slug(name) + ".com",
			BillOnBehalfOfEnabled: g.chance(0.3),
			SelfServiceAllowed:    g.chance(0.4),
			OrderApprovalRequired: g.chance(0.2),
			Status:                status,
			UpdatedDate:           offsetStamp(daysBefore(g, anchor, 1, 400)),
		}
		if g.chance(0.25) {
			c.Address.Street2 = fmt.Sprintf("Ste. %d", g.between(100, 999))
		}
		if g.chance(0.5) {
			c.ExternalID = fmt.Sprintf("CUST-%05d", g.intn(100000))
		}
		d.addCompany(c)
		genContacts(d, g, c, anchor)
	}
}

// genContacts gives Active and Deleted companies a primary contact of every
// type, spread over one to three people; Inactive ones lack some.
func genContacts(d *dataset, g *rng, c *company, anchor time.Time) {
	var roles [][]contactType
	switch {
	case c.Status == companyInactive:
		if g.chance(0.5) {
			roles = [][]contactType{{{Type: "Billing", Primary: false}}}
		}
	default:
		switch g.between(1, 3) {
		case 1:
			roles = [][]contactType{{{"Admin", true}, {"Billing", true}, {"Technical", true}}}
		case 2:
			roles = [][]contactType{{{"Admin", true}, {"Billing", true}}, {{"Technical", true}, {"Admin", false}}}
		default:
			roles = [][]contactType{{{"Admin", true}}, {{"Billing", true}}, {{"Technical", true}}}
		}
	}
	domain := c.Website
	for _, types := range roles {
		first, last := pick(g, firstNames), pick(g, lastNames)
		ct := &contact{
			ID:          g.uuid(),
			FirstName:   first,
			LastName:    last,
			Email:       strings.ToLower(first[:1]+strings.ReplaceAll(last, "'", "")) + "@" + domain,
			Phone:       fmt.Sprintf("%s-%04d", c.Phone[:len(c.Phone)-5], g.intn(10000)),
			CreatedDate: day(daysBefore(g, anchor, 400, 1500)),
			Types:       types,
		}
		setPhoneParts(ct, c.Address.Country)
		d.contacts[c.ID] = append(d.contacts[c.ID], ct)
		d.contactCount++
	}
}

// subscriptionStatusWeights spreads generated subscriptions over statuses,
// mostly Active, as a real partner's portfolio is.
var subscriptionStatusWeights = []struct {
	status string
	weight int
}{
	{"Active", 82}, {"Cancelled", 6}, {"PendingCancel", 3}, {"Trial", 3},
	{"PendingManual", 2}, {"PendingAutomated", 2}, {"WaitingForDetails", 2},
}

func genSubscriptions(d *dataset, g *rng, n int, cat *catalog, anchor time.Time) {
	var owners []*company
	for _, c := range d.companies {
		if c.Status != companyInactive {
			owners = append(owners, c)
		}
	}
	if len(owners) == 0 {
		return
	}
	subs := make([]*subscription, 0, n)
	for range n {
		co := pick(g, owners)
		p := pick(g, cat.products)
		term := pick(g, p.terms)
		qty := 1
		if !p.usage {
			qty = g.between(1, 25)
			if g.chance(0.1) {
				qty = g.between(26, 300)
			}
		}
		created := daysBefore(g, anchor, 2, 3*365)
		start := time.Date(created.Year(), created.Month(), created.Day()+1, 8, 30, 0, 0, time.UTC)
		s := d.newSubscription(co, p, term, qty, start, created)
		s.UpdatedDate = stamp(created.Add(time.Duration(g.intn(int(anchor.Sub(created).Seconds()))) * time.Second))
		s.Status = weightedStatus(g)
		if co.Status == companyDeleted {
			s.Status = "Cancelled"
		}
		switch s.Status {
		case "Cancelled":
			end := start.AddDate(0, 0, g.between(1, max(1, int(anchor.Sub(start).Hours()/24))))
			if limit := anchor.Add(-time.Hour); end.After(limit) {
				end = limit
			}
			s.EndDate = stamp(end)
		case "PendingCancel":
			s.EndDate = stamp(anchor.AddDate(0, 0, g.between(1, 30)))
		}
		if c := p.commitmentFor(term); c != nil {
			end := start.AddDate(0, c.months, 0)
			for s.Status != "Cancelled" && !end.After(anchor) {
				end = end.AddDate(0, c.months, 0) // auto-renewed
			}
			s.Commitment = &subscriptionCommitment{ID: c.ID, Term: c.Term, EndDate: stamp(end)}
		}
		subs = append(subs, s)
	}
	// Natural order is creation order, as a portfolio grows.
	slices.SortStableFunc(subs, func(a, b *subscription) int { return strings.Compare(a.CreatedDate, b.CreatedDate) })
	for _, s := range subs {
		d.addSubscription(s)
	}
}

func weightedStatus(g *rng) string {
	x := g.intn(100)
	for _, w := range subscriptionStatusWeights {
		if x < w.weight {
			return w.status
		}
		x -= w.weight
	}
	return "Active"
}

// genOrders groups each company's subscriptions into orders of one to four
// line items, in creation order.
func genOrders(d *dataset, g *rng) {
	last := make(map[string]*order)
	for _, s := range d.subs {
		o := last[s.CompanyID]
		if o == nil || len(o.LineItems) >= 4 || !g.chance(0.35) {
			co := d.companyByID[s.CompanyID]
			o = &order{
				ID:                 g.uuid(),
				CompanyID:          s.CompanyID,
				CreatedDate:        s.CreatedDate[:len(dateLayout)],
				OrderedBy:          orderedByPartner,
				OrderedByUserID:    d.userID,
				OrderedByUserEmail: d.userEmail,
			}
			if co.SelfServiceAllowed && g.chance(0.3) {
				o.OrderedBy, o.OrderedByUserID, o.OrderedByUserEmail = "Customer", "", ""
			}
			d.addOrder(o)
			last[s.CompanyID] = o
		}
		li := lineItem{
			ID: g.uuid(), ProductID: s.ProductID, SubscriptionID: s.ID,
			ProvisionStartDate: s.StartDate, BillingTerm: s.BillingTerm, Quantity: s.Quantity,
		}
		if s.Commitment != nil {
			li.CommitmentTermID = s.Commitment.ID
		}
		o.LineItems = append(o.LineItems, li)
	}
}
