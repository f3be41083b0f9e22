package reconcile_test

import (
	"errors"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/reconcile"
	"github.com/grantd/grantd/pax8"
)

func TestParseBillingCSV(t *testing.T) {
	in := "\ufeffProduct,org,unit_price,quantity\nm365-bp,org-1,19.123456789012345678,12\n\nav,org-1,\"3.50\",2\n"
	got, err := reconcile.ParseBillingCSV(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ParseBillingCSV = %v", err)
	}
	want := []reconcile.BillingLine{
		{Line: 2, OrgID: "org-1", Product: "m365-bp", Quantity: pax8.AmountFromInt(12), UnitPrice: pax8.MustParseAmount("19.123456789012345678")},
		{Line: 4, OrgID: "org-1", Product: "av", Quantity: pax8.AmountFromInt(2), UnitPrice: pax8.MustParseAmount("3.5")},
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("ParseBillingCSV (-want +got):\n%s", diff)
	}
}

// TestBillingProblemsByLine: every problem of an upload is reported with
// its line, and no line is returned.
func TestBillingProblemsByLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		parse    func(string) ([]reconcile.BillingLine, error)
		want     []reconcile.Problem
	}{
		{
			name:  "unknown and missing columns",
			in:    "org,product,qty,unit_price,notes\n",
			parse: csvParse,
			want: []reconcile.Problem{
				{Line: 1, Column: "qty", Reason: "unknown_column"},
				{Line: 1, Column: "notes", Reason: "unknown_column"},
				{Line: 1, Column: "quantity", Reason: "missing_column"},
			},
		},
		{
			name:  "values",
			in:    "org,product,quantity,unit_price\norg-1,a,twelve,1\norg-1,b,2,-0.01\norg-1,a,3,1\n,c,1,NaN\n",
			parse: csvParse,
			want: []reconcile.Problem{
				{Line: 2, Column: "quantity", Reason: "invalid_number"},
				{Line: 3, Column: "unit_price", Reason: "negative"},
				{Line: 4, Reason: "duplicate_line"},
				{Line: 5, Column: "org", Reason: "missing_value"},
				{Line: 5, Column: "unit_price", Reason: "invalid_number"},
			},
		},
		{
			name:  "json lines",
			in:    `{"org":"org-1","product":"a","quantity":2,"unit_price":"19.99"}` + "\n" + `{"org":"org-1","product":"b","quantity":"x","unit_price":1}` + "\n" + `{"org":"org-1","product":"c","quantity":1,"unit_price":1,"discount":5}` + "\n" + `{"org":"org-1","product":"a","quantity":1,"unit_price":-1}`,
			parse: jsonParse,
			want: []reconcile.Problem{
				{Line: 2, Column: "quantity", Reason: "invalid_number"},
				{Line: 3, Reason: "unknown_column"},
				{Line: 4, Column: "unit_price", Reason: "negative"},
				{Line: 4, Reason: "duplicate_line"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := tc.parse(tc.in)
			if lines != nil {
				t.Errorf("lines = %v, want none", lines)
			}
			var ps reconcile.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			for i := range ps {
				if !strings.HasPrefix(ps[i].Message, "line ") {
					t.Errorf("message %q does not name its line", ps[i].Message)
				}
				ps[i].Message = ""
			}
			if diff := gocmp.Diff(tc.want, []reconcile.Problem(ps)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func csvParse(s string) ([]reconcile.BillingLine, error) {
	return reconcile.ParseBillingCSV(strings.NewReader(s))
}

func jsonParse(s string) ([]reconcile.BillingLine, error) {
	return reconcile.ParseBillingJSONLines(strings.NewReader(s))
}
