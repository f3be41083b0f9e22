package pax8

import (
	"encoding/json"
	"errors"
)

// SubscriptionStatus is a subscription's lifecycle state.
type SubscriptionStatus string

// Subscription statuses.
const (
	SubscriptionActive            SubscriptionStatus = "Active"
	SubscriptionCancelled         SubscriptionStatus = "Cancelled"
	SubscriptionPendingManual     SubscriptionStatus = "PendingManual"
	SubscriptionPendingAutomated  SubscriptionStatus = "PendingAutomated"
	SubscriptionPendingCancel     SubscriptionStatus = "PendingCancel"
	SubscriptionWaitingForDetails SubscriptionStatus = "WaitingForDetails"
	SubscriptionTrial             SubscriptionStatus = "Trial"
	SubscriptionConverted         SubscriptionStatus = "Converted"
	SubscriptionPendingActivation SubscriptionStatus = "PendingActivation"
	SubscriptionActivated         SubscriptionStatus = "Activated"
)

// Subscription is a company's subscription to a product. Dates documented
// as date-times sometimes arrive as bare dates; [Time] accepts both.
type Subscription struct {
	ID                   string             `json:"id"`
	ParentSubscriptionID string             `json:"parentSubscriptionId,omitempty"`
	CompanyID            string             `json:"companyId"`
	ProductID            string             `json:"productId"`
	VendorSubscriptionID string             `json:"vendorSubscriptionId,omitempty"`
	VendorSKUID          string             `json:"vendorSkuId,omitempty"`
	Quantity             Number             `json:"quantity"`
	StartDate            Time               `json:"startDate,omitzero"`
	EndDate              Time               `json:"endDate,omitzero"`
	CreatedDate          Time               `json:"createdDate,omitzero"`
	UpdatedDate          Time               `json:"updatedDate,omitzero"`
	BillingStart         Date               `json:"billingStart,omitzero"`
	Status               SubscriptionStatus `json:"status,omitempty"`
	Price                Amount             `json:"price"`
	CurrencyCode         string             `json:"currencyCode,omitempty"`
	PartnerCost          Amount             `json:"partnerCost"`
	ProductName          string             `json:"productName,omitempty"`
	BillingTerm          BillingTerm        `json:"billingTerm,omitempty"`
	// CommitmentTerm is the commitment the subscription is under, if any.
	// The live API names this field "commitment" rather than the
	// documented "commitmentTerm"; both are read.
	CommitmentTerm *SubscriptionCommitment `json:"commitmentTerm,omitempty"`
}

// UnmarshalJSON implements [json.Unmarshaler], reading "commitment" when
// "commitmentTerm" is absent.
func (s *Subscription) UnmarshalJSON(b []byte) error {
	type plain Subscription
	var w struct {
		plain
		Commitment *SubscriptionCommitment `json:"commitment"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = Subscription(w.plain)
	if s.CommitmentTerm == nil {
		s.CommitmentTerm = w.Commitment
	}
	return nil
}

// SubscriptionCommitment is the commitment term of a subscription.
type SubscriptionCommitment struct {
	ID      string `json:"id,omitempty"`
	Term    string `json:"term,omitempty"`
	EndDate Time   `json:"endDate,omitzero"`
}

// SubscriptionUpdate changes a subscription with [SubscriptionsService.Update].
// Pax8 requires at least one of Price, BillingTerm, Quantity or StartDate;
// fields left nil or zero are not sent. Go 1.26's new(expr) makes the
// pointers easy to fill: Quantity: new(pax8.Number(11)).
type SubscriptionUpdate struct {
	Quantity            *Number             `json:"quantity,omitempty"`
	Price               *Amount             `json:"price,omitempty"`
	CurrencyCode        string              `json:"currencyCode,omitempty"`
	BillingTerm         BillingTerm         `json:"billingTerm,omitempty"`
	StartDate           Time                `json:"startDate,omitzero"`
	EndDate             Time                `json:"endDate,omitzero"`
	ProvisioningDetails []ProvisioningValue `json:"provisioningDetails,omitempty"`
}

var errEmptyUpdate = errors.New("pax8: update changes nothing: set at least one of price, billingTerm, quantity or startDate")

func (u *SubscriptionUpdate) validate() error {
	if u == nil || (u.Quantity == nil && u.Price == nil && u.BillingTerm == "" && u.StartDate.IsZero()) {
		return errEmptyUpdate
	}
	return nil
}
