package fleet

import (
	"errors"
	"testing"
)

func TestCheckDatabase(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"sqlite", nil},
		{"", nil},
		{"postgres://u@127.0.0.1/db", nil},
		{"postgresql://u@127.0.0.1/db", nil},
		{"mysql://u@127.0.0.1/db", ErrDatabase},
		{"grantd.db", ErrDatabase},
	} {
		if got := CheckDatabase(tc.in); !errors.Is(got, tc.want) {
			t.Errorf("CheckDatabase(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if got := Quantile(xs, 0.5); got != 3 {
		t.Errorf("Quantile(%v, 0.5) = %v, want 3", xs, got)
	}
	if got := Quantile(xs, 1); got != 5 {
		t.Errorf("Quantile(%v, 1) = %v, want 5", xs, got)
	}
	if xs[0] != 5 {
		t.Errorf("Quantile sorted its argument: %v", xs)
	}
	if got := Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile(nil) = %v, want 0", got)
	}
}
