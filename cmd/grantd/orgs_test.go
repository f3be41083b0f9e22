package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	grantd "github.com/grantd/grantd/client"
)

func TestReadOrganizations(t *testing.T) {
	want := []grantd.Organization{{ID: "org-1", Name: "Acme, Inc."}, {ID: "org-2", Name: "Blue Harbor"}}
	for _, tc := range []struct{ file, body string }{
		{"orgs.csv", "id,name\norg-1,\"Acme, Inc.\"\norg-2, Blue Harbor\n"},
		{"noheader.csv", "org-1,\"Acme, Inc.\"\norg-2,Blue Harbor\n"},
		{"orgs.json", `{"organizations":[{"id":"org-1","name":"Acme, Inc."},{"id":"org-2","name":"Blue Harbor"}]}`},
		{"bare.json", `[{"id":"org-1","name":"Acme, Inc."},{"id":"org-2","name":"Blue Harbor"}]`},
	} {
		path := filepath.Join(t.TempDir(), tc.file)
		if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readOrganizations(path)
		if err != nil {
			t.Errorf("readOrganizations(%s) = %v", tc.file, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("readOrganizations(%s) (-want +got):\n%s", tc.file, diff)
		}
	}
	for _, tc := range []struct{ file, body string }{
		{"three.csv", "org-1,Acme,extra\n"},
		{"bad.json", `{"organizations":`},
		{"orgs.txt", "org-1,Acme\n"},
	} {
		path := filepath.Join(t.TempDir(), tc.file)
		os.WriteFile(path, []byte(tc.body), 0o600)
		if _, err := readOrganizations(path); err == nil {
			t.Errorf("readOrganizations(%s) = nil error, want one", tc.file)
		}
	}
}

func TestPrintMappingsCSV(t *testing.T) {
	res := grantd.OrgMappings{
		Mappings:              []grantd.OrgMapping{{CompanyID: "c1", CompanyName: "Acme", OrgID: "o1", OrgName: "Acme Inc"}},
		Suggestions:           []grantd.OrgMappingSuggestion{{CompanyID: "c2", CompanyName: "Blue", OrgID: "o2", OrgName: "Blue LLC", Score: 1}},
		UnmappedCompanies:     []grantd.Company{{ID: "c2", Name: "Blue"}, {ID: "c3", Name: "Zed, Co"}},
		UnmappedOrganizations: []grantd.Organization{{ID: "o2", Name: "Blue LLC"}},
	}
	var b strings.Builder
	if err := printMappings(&b, res, "csv"); err != nil {
		t.Fatal(err)
	}
	want := "state,company_id,company_name,org_id,org_name,score\n" +
		"mapped,c1,Acme,o1,Acme Inc,\n" +
		"suggested,c2,Blue,o2,Blue LLC,1.00\n" +
		"unmapped_company,c3,\"Zed, Co\",,,\n" +
		"unmapped_organization,,,o2,Blue LLC,\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("printMappings csv (-want +got):\n%s", diff)
	}
}
