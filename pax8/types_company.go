package pax8

// CompanyStatus is a company's lifecycle state.
type CompanyStatus string

// Company statuses. A new company is Inactive until it has a primary
// contact of each type.
const (
	CompanyActive   CompanyStatus = "Active"
	CompanyInactive CompanyStatus = "Inactive"
	CompanyDeleted  CompanyStatus = "Deleted"
)

// Company is one of the partner's customers. The same type is sent to
// [CompaniesService.Create]: ID, Status and UpdatedDate are set by Pax8 and
// omitted when zero; the three booleans are always sent, as Pax8 requires.
type Company struct {
	ID                    string        `json:"id,omitempty"`
	Name                  string        `json:"name"`
	Address               Address       `json:"address"`
	Phone                 string        `json:"phone,omitempty"`
	Website               string        `json:"website,omitempty"`
	ExternalID            string        `json:"externalId,omitempty"`
	BillOnBehalfOfEnabled bool          `json:"billOnBehalfOfEnabled"`
	SelfServiceAllowed    bool          `json:"selfServiceAllowed"`
	OrderApprovalRequired bool          `json:"orderApprovalRequired"`
	Status                CompanyStatus `json:"status,omitempty"`
	UpdatedDate           Time          `json:"updatedDate,omitzero"`
	// Contacts is used only on create; including a primary contact of each
	// type makes the new company Active at once.
	Contacts []Contact `json:"contacts,omitempty"`
}

// CompanyUpdate is a partial update for [CompaniesService.Update] (PATCH):
// only the non-nil fields are sent, and at least one must be set.
type CompanyUpdate struct {
	Name                  *string  `json:"name,omitempty"`
	Address               *Address `json:"address,omitempty"`
	Phone                 *string  `json:"phone,omitempty"`
	Website               *string  `json:"website,omitempty"`
	ExternalID            *string  `json:"externalId,omitempty"`
	BillOnBehalfOfEnabled *bool    `json:"billOnBehalfOfEnabled,omitempty"`
	SelfServiceAllowed    *bool    `json:"selfServiceAllowed,omitempty"`
	OrderApprovalRequired *bool    `json:"orderApprovalRequired,omitempty"`
}

func (u *CompanyUpdate) empty() bool { return u == nil || *u == CompanyUpdate{} }

// Address is a postal address. Country is an ISO 3166 alpha-2 code ("US").
type Address struct {
	Street          string `json:"street,omitempty"`
	Street2         string `json:"street2,omitempty"`
	City            string `json:"city,omitempty"`
	StateOrProvince string `json:"stateOrProvince,omitempty"`
	PostalCode      string `json:"postalCode,omitempty"`
	Country         string `json:"country,omitempty"`
}

// ContactTypeName is the role a contact plays for a company.
type ContactTypeName string

// Contact roles. A company needs a primary contact of each.
const (
	ContactAdmin     ContactTypeName = "Admin"
	ContactBilling   ContactTypeName = "Billing"
	ContactTechnical ContactTypeName = "Technical"
)

// ContactType is one role of a contact, and whether it is the primary one.
type ContactType struct {
	Type    ContactTypeName `json:"type"`
	Primary bool            `json:"primary"`
}

// Contact is a person at a company. FirstName, LastName, Email and Phone are
// required on create. The live API also returns PhoneNumber,
// PhoneCountryCode and PhoneCountryCallingCode, which the spec omits.
type Contact struct {
	ID          string        `json:"id,omitempty"`
	FirstName   string        `json:"firstName"`
	LastName    string        `json:"lastName"`
	Email       string        `json:"email"`
	Phone       string        `json:"phone,omitempty"`
	CreatedDate Date          `json:"createdDate,omitzero"`
	Types       []ContactType `json:"types,omitempty"`

	PhoneNumber             string `json:"phoneNumber,omitempty"`
	PhoneCountryCode        string `json:"phoneCountryCode,omitempty"`
	PhoneCountryCallingCode string `json:"phoneCountryCallingcode,omitempty"`
}
