package pax8

import (
	"encoding/json"
	"strings"
)

// InvoiceStatus is an invoice's payment state.
type InvoiceStatus string

// Invoice statuses.
const (
	InvoiceUnpaid     InvoiceStatus = "Unpaid"
	InvoicePaid       InvoiceStatus = "Paid"
	InvoiceVoid       InvoiceStatus = "Void"
	InvoiceCarried    InvoiceStatus = "Carried"
	InvoiceNothingDue InvoiceStatus = "Nothing Due"
	InvoiceCredited   InvoiceStatus = "Credited"
)

// Invoice is a partner invoice. Status is returned by the live API although
// the spec's schema omits it.
type Invoice struct {
	ID             string        `json:"id"`
	InvoiceDate    Date          `json:"invoiceDate,omitzero"`
	DueDate        Date          `json:"dueDate,omitzero"`
	Status         InvoiceStatus `json:"status,omitempty"`
	Balance        Amount        `json:"balance"`
	CarriedBalance Amount        `json:"carriedBalance"`
	Total          Amount        `json:"total"`
	CurrencyCode   string        `json:"currencyCode,omitempty"`
	PartnerName    string        `json:"partnerName,omitempty"`
	CompanyID      string        `json:"companyId,omitempty"`
	ExternalID     string        `json:"externalId,omitempty"`
}

// RateType is how an invoice item was priced. Pax8 documents lowercase
// values but the live API sends them capitalised ("Flat"); decoding
// normalises to the lowercase constants.
type RateType string

// Rate types.
const (
	RateMarkup RateType = "markup"
	RateSingle RateType = "single"
	RateFlat   RateType = "flat"
	RateVolume RateType = "volume"
	RateTiered RateType = "tiered"
)

// UnmarshalJSON implements [json.Unmarshaler].
func (r *RateType) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if before, _, ok := strings.Cut(s, " "); ok {
		s = before // the spec's enum carries descriptions: "flat (Single price…)"
	}
	*r = RateType(s)
	return nil
}

// InvoiceItem is one line of an invoice, or of the draft of the next one.
// Type is one of rebate, prorate, subscription, payment-credit, one-time,
// service-charge, service-credit, invoice-credit; Term uses spaces ("2
// Year") unlike [BillingTerm]; ChargeType is "flat" or "per".
type InvoiceItem struct {
	ID                  string   `json:"id,omitempty"`
	PurchaseOrderNumber string   `json:"purchaseOrderNumber,omitempty"`
	Type                string   `json:"type,omitempty"`
	CompanyID           string   `json:"companyId,omitempty"`
	ExternalID          string   `json:"externalId,omitempty"`
	CompanyName         string   `json:"companyName,omitempty"`
	StartPeriod         Date     `json:"startPeriod,omitzero"`
	EndPeriod           Date     `json:"endPeriod,omitzero"`
	Quantity            Number   `json:"quantity"`
	UnitOfMeasure       string   `json:"unitOfMeasure,omitempty"`
	Term                string   `json:"term,omitempty"`
	SKU                 string   `json:"sku,omitempty"`
	Description         string   `json:"description,omitempty"`
	Details             string   `json:"details,omitempty"`
	RateType            RateType `json:"rateType,omitempty"`
	ChargeType          string   `json:"chargeType,omitempty"`
	Price               Amount   `json:"price"`
	SubTotal            Amount   `json:"subTotal"`
	Cost                Amount   `json:"cost"`
	CostTotal           Amount   `json:"costTotal"`
	OfferedBy           string   `json:"offeredBy,omitempty"`
	BilledByPax8        bool     `json:"billedByPax8"`
	Total               Amount   `json:"total"`
	ProductID           string   `json:"productId,omitempty"`
	ProductName         string   `json:"productName,omitempty"`
	BillingFee          Amount   `json:"billingFee"`
	BillingFeeRate      Amount   `json:"billingFeeRate"`
	AmountDue           Amount   `json:"amountDue"`
	CurrencyCode        string   `json:"currencyCode,omitempty"`
	SalesTax            Amount   `json:"salesTax"`
	SubscriptionID      string   `json:"subscriptionId,omitempty"`
	VendorName          string   `json:"vendorName,omitempty"`
}
