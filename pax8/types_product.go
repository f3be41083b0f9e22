package pax8

// Product is an entry of the product catalogue.
type Product struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	VendorName       string `json:"vendorName,omitempty"`
	ShortDescription string `json:"shortDescription,omitempty"`
	SKU              string `json:"sku,omitempty"`
	VendorSKU        string `json:"vendorSku,omitempty"`
	// AltVendorSKU is deprecated by Pax8.
	AltVendorSKU       string `json:"altVendorSku,omitempty"`
	RequiresCommitment bool   `json:"requiresCommitment"`
}

// ProductDetail is a [Product] with its long description.
type ProductDetail struct {
	Product
	Description string `json:"description,omitempty"`
}

// ValueType says how a provisioning detail is answered.
type ValueType string

// Provisioning value types.
const (
	ValueInput       ValueType = "Input"
	ValueSingleValue ValueType = "Single-Value"
	ValueMultiValue  ValueType = "Multi-Value"
)

// ProvisioningDetail is a question that must be answered, in an order's line
// item, to provision a product. Provisioning details are dynamic: fetch them
// before each order.
type ProvisioningDetail struct {
	Label          string    `json:"label,omitempty"`
	Key            string    `json:"key"`
	Description    string    `json:"description,omitempty"`
	ValueType      ValueType `json:"valueType,omitempty"`
	PossibleValues []string  `json:"possibleValues,omitempty"`
}

// ProvisioningValue answers a [ProvisioningDetail] in an order or a
// subscription update.
type ProvisioningValue struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// PricingType is how a price depends on quantity.
type PricingType string

// Pricing types.
const (
	PricingFlat   PricingType = "Flat"
	PricingVolume PricingType = "Volume"
	PricingTiered PricingType = "Tiered"
	PricingMarkUp PricingType = "Mark-Up"
)

// Pricing is a product's price for one billing and commitment term.
type Pricing struct {
	ProductID              string      `json:"productId,omitempty"`
	ProductName            string      `json:"productName,omitempty"`
	BillingTerm            BillingTerm `json:"billingTerm,omitempty"`
	CommitmentTerm         string      `json:"commitmentTerm,omitempty"`
	CommitmentTermInMonths Number      `json:"commitmentTermInMonths,omitempty"`
	Type                   PricingType `json:"type,omitempty"`
	UnitOfMeasurement      string      `json:"unitOfMeasurement,omitempty"`
	Rates                  []Rate      `json:"rates,omitempty"`
}

// Rate is one quantity band of a [Pricing]. ChargeType is "Per Unit" or
// "Flat Rate".
//
// Use [Rate.Contains] to find the band of a quantity: it treats a nil
// EndQuantityRange as open-ended.
type Rate struct {
	PartnerBuyRate       Amount `json:"partnerBuyRate"`
	SuggestedRetailPrice Amount `json:"suggestedRetailPrice"`
	// StartQuantityRange is the first quantity of the band; Pax8 documents
	// an absent value as 0.
	StartQuantityRange Number `json:"startQuantityRange"`
	// EndQuantityRange is the last quantity of the band, or nil when Pax8
	// sends null: "there is no end of range".
	EndQuantityRange *Number `json:"endQuantityRange"`
	ChargeType       string  `json:"chargeType,omitempty"`
}

// Dependencies lists what a product needs: commitments to choose from and
// products that must, or must not, be ordered with it.
type Dependencies struct {
	CommitmentDependencies []Commitment        `json:"commitmentDependencies"`
	ProductDependencies    []ProductDependency `json:"productDependencies"`
}

// Commitment is a commitment term a product can be ordered with; its ID is
// the commitmentTermId of an order line item.
type Commitment struct {
	ID                             string `json:"id"`
	Term                           string `json:"term,omitempty"`
	AutoRenew                      bool   `json:"autoRenew"`
	RenewalWindowDaysBeforeTermEnd Number `json:"renewalWindowDaysBeforeTermEnd"`
	RenewalWindowDaysAfterTermEnd  Number `json:"renewalWindowDaysAfterTermEnd"`
	AllowForQuantityIncrease       bool   `json:"allowForQuantityIncrease"`
	AllowForQuantityDecrease       bool   `json:"allowForQuantityDecrease"`
	AllowForEarlyCancellation      bool   `json:"allowForEarlyCancellation"`
	CancellationFeeApplied         bool   `json:"cancellationFeeApplied"`
	IsTransferable                 bool   `json:"isTransferable"`
}

// ProductDependency is a named group of related products, such as
// "Requires".
type ProductDependency struct {
	Name     string    `json:"name"`
	Products []Product `json:"products"`
}

// Contains reports whether quantity q falls in r's band: at least
// StartQuantityRange and, unless the band is open-ended, at most
// EndQuantityRange.
func (r Rate) Contains(q Number) bool {
	return q >= r.StartQuantityRange && (r.EndQuantityRange == nil || q <= *r.EndQuantityRange)
}
