package pax8

import (
	"encoding/json"
	"strings"
)

// BillingTerm is how often a subscription is billed (partner API spelling,
// "2-Year"; invoice items use "2 Year", see [InvoiceItem.Term]).
type BillingTerm string

// Billing terms.
const (
	BillingMonthly    BillingTerm = "Monthly"
	BillingAnnual     BillingTerm = "Annual"
	Billing2Year      BillingTerm = "2-Year"
	Billing3Year      BillingTerm = "3-Year"
	BillingOneTime    BillingTerm = "One-Time"
	BillingTrial      BillingTerm = "Trial"
	BillingActivation BillingTerm = "Activation"
)

// OrderedBy says who placed an order.
type OrderedBy string

// Who placed an order. The live API reads back "Pax8Partner" but requires
// "Pax8 Partner" on create; decoding normalises the former to
// [OrderedByPax8Partner], so values round-trip.
const (
	OrderedByPax8Partner OrderedBy = "Pax8 Partner"
	OrderedByCustomer    OrderedBy = "Customer"
	OrderedByPax8        OrderedBy = "Pax8"
)

// UnmarshalJSON implements [json.Unmarshaler].
func (o *OrderedBy) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if strings.EqualFold(strings.ReplaceAll(s, " ", ""), "Pax8Partner") {
		s = string(OrderedByPax8Partner)
	}
	*o = OrderedBy(s)
	return nil
}

// Order is an order for one company, with its line items.
type Order struct {
	ID                 string     `json:"id"`
	CompanyID          string     `json:"companyId"`
	CreatedDate        Date       `json:"createdDate,omitzero"`
	OrderedBy          OrderedBy  `json:"orderedBy,omitempty"`
	OrderedByUserID    string     `json:"orderedByUserId,omitempty"`
	OrderedByUserEmail string     `json:"orderedByUserEmail,omitempty"`
	IsScheduled        bool       `json:"isScheduled"`
	LineItems          []LineItem `json:"lineItems"`
}

// LineItem is one product in an [Order], and the subscription it produced.
type LineItem struct {
	ID                 string      `json:"id"`
	ProductID          string      `json:"productId"`
	SubscriptionID     string      `json:"subscriptionId,omitempty"`
	CommitmentTermID   string      `json:"commitmentTermId,omitempty"`
	ProvisionStartDate Time        `json:"provisionStartDate,omitzero"`
	BillingTerm        BillingTerm `json:"billingTerm,omitempty"`
	Quantity           Number      `json:"quantity"`
}

// OrderCreate is a new order for [OrdersService.Create]. CompanyID and at
// least one line item are required. Scheduled orders (a future
// ProvisionStartDate) are not supported by Pax8.
type OrderCreate struct {
	CompanyID          string           `json:"companyId"`
	OrderedBy          OrderedBy        `json:"orderedBy,omitempty"`
	OrderedByUserEmail string           `json:"orderedByUserEmail,omitempty"`
	LineItems          []LineItemCreate `json:"lineItems"`
}

// LineItemCreate is one line of an [OrderCreate]. ProductID, LineItemNumber
// (1-based, unique in the order), Quantity and BillingTerm are required;
// CommitmentTermID is required when the product requires a commitment (see
// [ProductsService.Dependencies]). ParentSubscriptionID or
// ParentLineItemNumber link an add-on to its base product.
type LineItemCreate struct {
	ProductID            string              `json:"productId"`
	LineItemNumber       int                 `json:"lineItemNumber"`
	Quantity             Number              `json:"quantity"`
	BillingTerm          BillingTerm         `json:"billingTerm"`
	CommitmentTermID     string              `json:"commitmentTermId,omitempty"`
	ProvisionStartDate   Time                `json:"provisionStartDate,omitzero"`
	ParentSubscriptionID string              `json:"parentSubscriptionId,omitempty"`
	ParentLineItemNumber int                 `json:"parentLineItemNumber,omitempty"`
	ProvisioningDetails  []ProvisioningValue `json:"provisioningDetails,omitempty"`
}
