package orgmap

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

func TestCompute(t *testing.T) {
	when := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		companies []Company
		orgs      []Organization
		mappings  []store.OrgMapping
		want      Result
	}{
		{
			name: "empty",
			want: Result{Mappings: []Mapping{}, Suggestions: []Suggestion{}, UnmappedCompanies: []Company{}, UnmappedOrganizations: []Organization{}},
		},
		{
			name:      "suggest across case, punctuation and legal form",
			companies: []Company{{"c1", "Acme, Inc."}, {"c2", "Blue Harbor Dental"}, {"c3", "Zenith Roofing"}},
			orgs:      []Organization{{"o1", "ACME Inc"}, {"o2", "Blue Harbour Dental LLC"}, {"o3", "Quasar Labs"}},
			want: Result{
				Mappings: []Mapping{},
				Suggestions: []Suggestion{
					{CompanyID: "c1", CompanyName: "Acme, Inc.", OrgID: "o1", OrgName: "ACME Inc", Score: 1},
					{CompanyID: "c2", CompanyName: "Blue Harbor Dental", OrgID: "o2", OrgName: "Blue Harbour Dental LLC", Score: 0.893},
				},
				UnmappedCompanies:     []Company{{"c1", "Acme, Inc."}, {"c2", "Blue Harbor Dental"}, {"c3", "Zenith Roofing"}},
				UnmappedOrganizations: []Organization{{"o1", "ACME Inc"}, {"o2", "Blue Harbour Dental LLC"}, {"o3", "Quasar Labs"}},
			},
		},
		{
			name:      "mapped on both sides are not suggested again",
			companies: []Company{{"c1", "Acme"}, {"c2", "Acme Holdings"}},
			orgs:      []Organization{{"o1", "Acme Inc"}, {"o2", "Beta"}},
			mappings:  []store.OrgMapping{{ExternalID: "c1", ExternalName: "Acme", OrgID: "o1", UpdatedAt: when}},
			want: Result{
				Mappings:              []Mapping{{CompanyID: "c1", CompanyName: "Acme", OrgID: "o1", OrgName: "Acme Inc", UpdatedAt: when}},
				Suggestions:           []Suggestion{},
				UnmappedCompanies:     []Company{{"c2", "Acme Holdings"}},
				UnmappedOrganizations: []Organization{{"o2", "Beta"}},
			},
		},
		{
			name:      "each organisation is suggested once, to the best company",
			companies: []Company{{"c1", "Northwind Dental Care"}, {"c2", "Northwind Dental"}},
			orgs:      []Organization{{"o1", "Northwind Dental, Inc."}},
			want: Result{
				Mappings:              []Mapping{},
				Suggestions:           []Suggestion{{CompanyID: "c2", CompanyName: "Northwind Dental", OrgID: "o1", OrgName: "Northwind Dental, Inc.", Score: 1}},
				UnmappedCompanies:     []Company{{"c2", "Northwind Dental"}, {"c1", "Northwind Dental Care"}},
				UnmappedOrganizations: []Organization{{"o1", "Northwind Dental, Inc."}},
			},
		},
		{
			name:      "ties go to the lower ids",
			companies: []Company{{"c2", "Acme"}, {"c1", "ACME"}},
			orgs:      []Organization{{"o2", "Acme Inc"}, {"o1", "Acme LLC"}},
			want: Result{
				Mappings: []Mapping{},
				Suggestions: []Suggestion{
					{CompanyID: "c1", CompanyName: "ACME", OrgID: "o1", OrgName: "Acme LLC", Score: 1},
					{CompanyID: "c2", CompanyName: "Acme", OrgID: "o2", OrgName: "Acme Inc", Score: 1},
				},
				UnmappedCompanies:     []Company{{"c1", "ACME"}, {"c2", "Acme"}},
				UnmappedOrganizations: []Organization{{"o2", "Acme Inc"}, {"o1", "Acme LLC"}},
			},
		},
		{
			name:      "a near miss is not suggested",
			companies: []Company{{"c1", "Northwind Dental"}},
			orgs:      []Organization{{"o1", "Southwind Dental"}},
			want: Result{
				Mappings:              []Mapping{},
				Suggestions:           []Suggestion{},
				UnmappedCompanies:     []Company{{"c1", "Northwind Dental"}},
				UnmappedOrganizations: []Organization{{"o1", "Southwind Dental"}},
			},
		},
		{
			name:      "stale mappings are kept and flagged",
			companies: []Company{{"c1", "Acme Renamed"}},
			orgs:      []Organization{{"o1", "Acme"}},
			mappings: []store.OrgMapping{
				{ExternalID: "c1", ExternalName: "Acme", OrgID: "o-gone"},
				{ExternalID: "c-gone", ExternalName: "Old Co", OrgID: "o1"},
			},
			want: Result{
				Mappings: []Mapping{
					{CompanyID: "c1", CompanyName: "Acme Renamed", OrgID: "o-gone", OrgMissing: true},
					{CompanyID: "c-gone", CompanyName: "Old Co", OrgID: "o1", OrgName: "Acme", CompanyMissing: true},
				},
				Suggestions:           []Suggestion{},
				UnmappedCompanies:     []Company{},
				UnmappedOrganizations: []Organization{},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Compute(tc.companies, tc.orgs, tc.mappings, 0)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compute (-want +got):\n%s", diff)
			}
		})
	}
}

// TestComputeDeterministic shuffles the input: the result must not change.
func TestComputeDeterministic(t *testing.T) {
	var companies []Company
	var orgs []Organization
	for i, n := range []string{"Acme", "Acme Group", "Blue Harbor", "Blue Harbour", "Cedar Ridge", "Cedar Ridge Law", "Summit", "Summit Roofing"} {
		companies = append(companies, Company{ID: string(rune('a' + i)), Name: n})
		orgs = append(orgs, Organization{ID: string(rune('A' + i)), Name: n + " Inc"})
	}
	want := Compute(companies, orgs, nil, 0.5)
	if len(want.Suggestions) == 0 {
		t.Fatal("Compute suggested nothing; the test needs suggestions")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(companies), func(i, j int) { companies[i], companies[j] = companies[j], companies[i] })
		r.Shuffle(len(orgs), func(i, j int) { orgs[i], orgs[j] = orgs[j], orgs[i] })
		if diff := cmp.Diff(want, Compute(companies, orgs, nil, 0.5)); diff != "" {
			t.Fatalf("Compute after shuffle (-want +got):\n%s", diff)
		}
	}
}
