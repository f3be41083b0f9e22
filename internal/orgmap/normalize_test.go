package orgmap

import (
	"math"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Acme, Inc.", "acme"},
		{"ACME Inc", "acme"},
		{"acme incorporated", "acme"},
		{"The Acme Company", "acme"},
		{"Acme L.L.C.", "acme"},
		{"Acme Corp. Ltd.", "acme"},
		{"Müller GmbH", "müller"},
		{"O'Brien & Sons", "obrien and sons"},
		{"  Cedar   Ridge\tFamily-Law  ", "cedar ridge family law"},
		{"A.B.C. Plumbing", "abc plumbing"},
		{"3 M Company", "3 m"},
		{"The Company", "the company"}, // nothing but noise words: kept
		{"Inc", "inc"},
		{"", ""},
		{"!!!", ""},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSimilarity(t *testing.T) {
	for _, tc := range []struct {
		a, b     string
		min, max float64 // inclusive bounds
	}{
		{"Acme, Inc.", "ACME Inc", 1, 1},
		{"BlueHarbor Dental", "Blue Harbor Dental Inc", 1, 1},
		{"Dental Northwind", "Northwind Dental", 1, 1},
		{"Northwind Dental", "Northwind Dental Care, LLC", DefaultThreshold, 0.99},
		{"Blue Harbor Dental", "Blue Harbour Dental", DefaultThreshold, 0.99},
		{"Cedar Ridge Family Law LLC", "Cedar Ridge Family Law Group", DefaultThreshold, 0.99},
		{"Keystone Realty", "Keystone Realty Partners", DefaultThreshold, 0.99},
		// Below the threshold: a different first word or trade.
		{"Northwind Dental", "Southwind Dental", 0, DefaultThreshold - 0.01},
		{"Northwind Dental", "Northwind Dentistry", 0, DefaultThreshold - 0.01},
		{"Summit Roofing", "Summit Plumbing", 0, 0.7},
		{"Acme", "Zenith", 0, 0.1},
		{"", "Acme", 0, 0},
		{"!!!", "!!!", 0, 0},
	} {
		got := Similarity(tc.a, tc.b)
		if got < tc.min || got > tc.max {
			t.Errorf("Similarity(%q, %q) = %.3f, want in [%.2f, %.2f]", tc.a, tc.b, got, tc.min, tc.max)
		}
		if rev := Similarity(tc.b, tc.a); math.Abs(rev-got) > 1e-12 {
			t.Errorf("Similarity(%q, %q) = %.3f but reversed %.3f; want symmetric", tc.a, tc.b, got, rev)
		}
	}
}
