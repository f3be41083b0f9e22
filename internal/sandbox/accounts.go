package sandbox

// Account is a demo user of the sandbox's login page.
type Account struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Kind is "partner" or "vendor" for Pax8 accounts, "user" for others.
	// Only Pax8 partner accounts may complete Pax8's delegation flow, as
	// Pax8 documents (seeds/000 "Testing Notes").
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Company string `json:"company"`
	// Subject is the sub claim of the account's tokens, and the partner
	// identity handed to the emulated API.
	Subject string `json:"subject"`
}

// Account kinds.
const (
	KindPartner = "partner"
	KindVendor  = "vendor"
	KindUser    = "user"
)

var accounts = []Account{
	{Username: "partner@example-msp.test", Password: "demo", Kind: KindPartner, Name: "Ava Partner", Company: "Example MSP", Subject: "auth0|partner-example-msp"},
	{Username: "ops@northwind-msp.test", Password: "demo", Kind: KindPartner, Name: "Noah Ops", Company: "Northwind MSP", Subject: "auth0|partner-northwind-msp"},
	{Username: "vendor@example-vendor.test", Password: "demo", Kind: KindVendor, Name: "Vera Vendor", Company: "Example Vendor", Subject: "auth0|vendor-example-vendor"},
}

// Accounts returns the pax8 demo accounts, so that the demo and tests can
// log in. The slice is a copy.
func Accounts() []Account { return append([]Account(nil), accounts...) }

// AccountsOf returns the demo accounts of a personality's login page (none
// for daxko, which has no login). The slice is a copy.
func AccountsOf(provider string) []Account {
	if d := dialects[provider]; d != nil {
		return append([]Account(nil), d.accounts...)
	}
	return nil
}
