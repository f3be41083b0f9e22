package reconcile

import "github.com/grantd/grantd/pax8"

// Category classifies one line of a reconciliation.
type Category string

// The categories, in the order a report lists them.
const (
	// Matched: Pax8's subscription, Pax8's charge and the tenant's bill agree.
	Matched Category = "matched"
	// Unbilled: Pax8 charges the company for the product, the tenant bills
	// nothing for it.
	Unbilled Category = "unbilled"
	// Ghost: the tenant bills the product, Pax8 has neither a charge nor a
	// running subscription for it.
	Ghost Category = "ghost"
	// QuantityMismatch: the subscription's seats, the seats charged and the
	// seats billed do not agree.
	QuantityMismatch Category = "quantity_mismatch"
	// BelowCost: the tenant bills a unit price below Pax8's unit cost.
	BelowCost Category = "below_cost"
	// CancelledButCharged: Pax8 charges a period that starts after the
	// subscription was cancelled.
	CancelledButCharged Category = "cancelled_but_charged"
	// UnmappedCompany: Pax8 charges a company that is not mapped to one of
	// the tenant's organisations (or is not among the partner's companies).
	UnmappedCompany Category = "unmapped_company"
	// UnmappedProduct: the tenant bills a product key that is not mapped to
	// a Pax8 product.
	UnmappedProduct Category = "unmapped_product"
)

// Categories lists every category, matched first.
var Categories = []Category{Matched, Unbilled, Ghost, QuantityMismatch, BelowCost, CancelledButCharged, UnmappedCompany, UnmappedProduct}

// Line is one company × product of a reconciliation with its category.
// A company × product that disagrees in two ways (a quantity and a price)
// has two lines. Quantities are exact decimals, as Pax8 sends them.
type Line struct {
	Category    Category `json:"category"`
	CompanyID   string   `json:"company_id,omitempty"`
	CompanyName string   `json:"company_name,omitempty"`
	OrgID       string   `json:"org_id,omitempty"`
	ProductID   string   `json:"product_id,omitempty"`
	ProductName string   `json:"product_name,omitempty"`
	// ProductKey is the tenant's product key, when the tenant bills it.
	ProductKey string `json:"product_key,omitempty"`

	SubscriptionQuantity pax8.Amount `json:"subscription_quantity"`
	ChargedQuantity      pax8.Amount `json:"charged_quantity"`
	BilledQuantity       pax8.Amount `json:"billed_quantity"`
	// UnitCost is Pax8's cost per seat; UnitPrice the tenant's price per
	// seat (Pax8's subscription price when the tenant bills nothing).
	UnitCost  pax8.Money `json:"unit_cost"`
	UnitPrice pax8.Money `json:"unit_price"`
	// Charged is what Pax8 charges for the period; Billed what the tenant
	// bills.
	Charged pax8.Money `json:"charged"`
	Billed  pax8.Money `json:"billed"`
	// AtStake is the money the difference is worth, never negative; zero
	// for a matched line.
	AtStake pax8.Money `json:"at_stake"`
	Detail  string     `json:"detail,omitempty"`
}

// Company sums one Pax8 company's lines: what Pax8 charges, what the tenant
// bills, and the margin between them.
type Company struct {
	CompanyID   string     `json:"company_id"`
	CompanyName string     `json:"company_name,omitempty"`
	OrgID       string     `json:"org_id,omitempty"`
	Charged     pax8.Money `json:"charged"`
	Billed      pax8.Money `json:"billed"`
	Margin      pax8.Money `json:"margin"`
	AtStake     pax8.Money `json:"at_stake"`
}

// CategoryTotal is the number of lines of a category and their money at
// stake.
type CategoryTotal struct {
	Category Category   `json:"category"`
	Lines    int        `json:"lines"`
	AtStake  pax8.Money `json:"at_stake"`
}

// Report is the reconciliation of one period.
type Report struct {
	Period   Period          `json:"period"`
	Currency string          `json:"currency"`
	Totals   []CategoryTotal `json:"totals"`
	// Charged, Billed and Margin are over all lines.
	Charged   pax8.Money `json:"charged"`
	Billed    pax8.Money `json:"billed"`
	Margin    pax8.Money `json:"margin"`
	AtStake   pax8.Money `json:"at_stake"`
	Companies []Company  `json:"companies"`
	Lines     []Line     `json:"lines"`
	// Walked counts what was read from Pax8.
	Walked Walked `json:"walked"`
}

// Walked counts the records a reconciliation read from Pax8.
type Walked struct {
	Companies     int `json:"companies"`
	Subscriptions int `json:"subscriptions"`
	Invoices      int `json:"invoices"`
	InvoiceItems  int `json:"invoice_items"`
}

// Flagged returns the lines that are not matched.
func (r *Report) Flagged() []Line {
	var out []Line
	for _, l := range r.Lines {
		if l.Category != Matched {
			out = append(out, l)
		}
	}
	return out
}
