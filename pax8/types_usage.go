package pax8

// UsageSummary is the usage-based charge of one subscription for one
// resource group (typically a customer tenant).
type UsageSummary struct {
	ID             string `json:"id"`
	CompanyID      string `json:"companyId,omitempty"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
	ProductID      string `json:"productId,omitempty"`
	ResourceGroup  string `json:"resourceGroup,omitempty"`
	VendorName     string `json:"vendorName,omitempty"`
	CurrentCharges Amount `json:"currentCharges"`
	CurrencyCode   string `json:"currencyCode,omitempty"`
	PartnerTotal   Amount `json:"partnerTotal"`
	IsTrial        bool   `json:"isTrial"`
}

// UsageLine is one day of usage of one product within a [UsageSummary].
type UsageLine struct {
	UsageSummaryID string `json:"usageSummaryId,omitempty"`
	UsageDate      Date   `json:"usageDate,omitzero"`
	ProductName    string `json:"productName,omitempty"`
	ProductID      string `json:"productId,omitempty"`
	UnitOfMeasure  string `json:"unitOfMeasure,omitempty"`
	Quantity       Number `json:"quantity"`
	CurrentCharges Amount `json:"currentCharges"`
	CurrentProfit  Amount `json:"currentProfit"`
	PartnerTotal   Amount `json:"partnerTotal"`
	UnitPrice      Amount `json:"unitPrice"`
	CurrencyCode   string `json:"currencyCode,omitempty"`
	IsTrial        bool   `json:"isTrial"`
}
