package orgmap

import (
	"cmp"
	"slices"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// DefaultThreshold is the lowest [Similarity] at which [Compute] suggests a
// match. At 0.8, "Northwind Dental" suggests "Northwind Dental Care, LLC"
// (0.90) and "Blue Harbor" suggests "Blue Harbour" (0.89), but "Northwind
// Dental" suggests neither "Southwind Dental" (0.78) nor "Northwind
// Dentistry" (0.76); the tests hold this calibration.
const DefaultThreshold = 0.8

// Company is a provider-side account to be mapped (a Pax8 company).
type Company struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Organization is one of the tenant's own organisations.
type Organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Mapping is a stored link from a company to an organisation, with both
// names as they are now. CompanyMissing is set when the company is no
// longer listed by the provider, OrgMissing when the organisation is no
// longer in the tenant's list; the mapping stays until someone deletes it.
type Mapping struct {
	CompanyID      string    `json:"company_id"`
	CompanyName    string    `json:"company_name"`
	OrgID          string    `json:"org_id"`
	OrgName        string    `json:"org_name,omitempty"`
	CompanyMissing bool      `json:"company_missing,omitempty"`
	OrgMissing     bool      `json:"org_missing,omitempty"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// Suggestion proposes mapping an unmapped company to an unmapped
// organisation whose name scored Score ([Similarity]).
type Suggestion struct {
	CompanyID   string  `json:"company_id"`
	CompanyName string  `json:"company_name"`
	OrgID       string  `json:"org_id"`
	OrgName     string  `json:"org_name"`
	Score       float64 `json:"score"`
}

// Result is the state of one connection's mapping. Every company appears
// either in Mappings or in UnmappedCompanies, and every organisation
// either as the target of a mapping or in UnmappedOrganizations.
// Suggestions pair some of the unmapped on both sides, each company and
// each organisation at most once. All lists are sorted and never nil.
// CompaniesListedAt is when the companies were listed from the provider
// ([Service.Get] may reuse a recent list); [Compute] leaves it zero.
type Result struct {
	Mappings              []Mapping      `json:"mappings"`
	Suggestions           []Suggestion   `json:"suggestions"`
	UnmappedCompanies     []Company      `json:"unmapped_companies"`
	UnmappedOrganizations []Organization `json:"unmapped_organizations"`
	CompaniesListedAt     time.Time      `json:"companies_listed_at,omitzero"`
}

// Compute returns the mapping state of companies against orgs given the
// stored mappings, suggesting matches at or above threshold (0 means
// [DefaultThreshold]). It is deterministic: suggestions are chosen
// greedily from the highest score down, ties broken by company id and
// then organisation id, so the same input always gives the same output
// whatever its order.
func Compute(companies []Company, orgs []Organization, mappings []store.OrgMapping, threshold float64) Result {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	companyName := make(map[string]string, len(companies))
	for _, c := range companies {
		companyName[c.ID] = c.Name
	}
	orgName := make(map[string]string, len(orgs))
	for _, o := range orgs {
		orgName[o.ID] = o.Name
	}

	res := Result{
		Mappings:              []Mapping{},
		Suggestions:           []Suggestion{},
		UnmappedCompanies:     []Company{},
		UnmappedOrganizations: []Organization{},
	}
	mappedCompany := make(map[string]bool, len(mappings))
	mappedOrg := make(map[string]bool, len(mappings))
	for _, m := range mappings {
		name, listed := companyName[m.ExternalID]
		if !listed {
			name = m.ExternalName
		}
		oname, known := orgName[m.OrgID]
		res.Mappings = append(res.Mappings, Mapping{
			CompanyID: m.ExternalID, CompanyName: name, OrgID: m.OrgID, OrgName: oname,
			CompanyMissing: !listed, OrgMissing: !known, UpdatedAt: m.UpdatedAt,
		})
		mappedCompany[m.ExternalID] = true
		mappedOrg[m.OrgID] = true
	}
	for _, c := range companies {
		if !mappedCompany[c.ID] {
			res.UnmappedCompanies = append(res.UnmappedCompanies, c)
			mappedCompany[c.ID] = true // a company listed twice counts once
		}
	}
	for _, o := range orgs {
		if !mappedOrg[o.ID] {
			res.UnmappedOrganizations = append(res.UnmappedOrganizations, o)
			mappedOrg[o.ID] = true
		}
	}
	slices.SortFunc(res.Mappings, func(a, b Mapping) int {
		return cmp.Or(cmp.Compare(a.CompanyName, b.CompanyName), cmp.Compare(a.CompanyID, b.CompanyID))
	})
	slices.SortFunc(res.UnmappedCompanies, func(a, b Company) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(res.UnmappedOrganizations, func(a, b Organization) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	res.Suggestions = suggest(res.UnmappedCompanies, res.UnmappedOrganizations, threshold)
	return res
}
