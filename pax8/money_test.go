package pax8

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAmountExact(t *testing.T) {
	a, b := MustParseAmount("0.1"), MustParseAmount("0.2")
	if got := a.Add(b); !got.Equal(MustParseAmount("0.3")) || got.String() != "0.3" {
		t.Errorf("0.1 + 0.2 = %s, want exactly 0.3", got)
	}
	if 0.1+0.2 == 0.3 { // the reason for Amount: the float64 sum is not 0.3
		t.Log("float64 arithmetic unexpectedly exact")
	}
	tests := []struct {
		name string
		got  Amount
		want string
	}{
		{"sub", MustParseAmount("10.00").Sub(MustParseAmount("0.01")), "9.99"},
		{"neg", MustParseAmount("19.99").Neg(), "-19.99"},
		{"mul by seats", MustParseAmount("12.50").MulInt(3), "37.50"},
		{"mul by quantity", MustParseAmount("5.33").MulQuantity(3), "15.99"},
		{"mul by fractional quantity", MustParseAmount("0.1").MulQuantity(0.1), "0.01"},
		{"mul", MustParseAmount("1.5").Mul(MustParseAmount("1.5")), "2.25"},
		{"round half away", MustParseAmount("19.995").Round(2), "20.00"},
		{"round negative half away", MustParseAmount("-0.125").Round(2), "-0.13"},
		{"exponent form", MustParseAmount("1e3"), "1000"},
		{"small", MustParseAmount("0.000001"), "0.000001"},
		{"from parts", NewAmount(1999, -2), "19.99"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	if s := NewAmount(5, 0).StringFixed(2); s != "5.00" {
		t.Errorf("StringFixed(2) = %q, want 5.00", s)
	}
}

func TestAmountCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"12.5", "12.50", 0},
		{"-1", "0", -1},
		{"0.30", "0.3", 0},
		{"100", "99.999999999999999999", 1},
	}
	for _, tt := range tests {
		a, b := MustParseAmount(tt.a), MustParseAmount(tt.b)
		if got := a.Cmp(b); got != tt.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := a.Equal(b); got != (tt.want == 0) {
			t.Errorf("Equal(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
	if AmountFromInt(-3).Sign() != -1 || !(Amount{}).IsZero() || (Amount{}).String() != "0" {
		t.Error("Sign, IsZero or the zero value's String is wrong")
	}
}

// TestAmountJSON checks that amounts cross JSON without loss, in both
// directions, and refuse what is not a number.
func TestAmountJSON(t *testing.T) {
	for _, in := range []string{"12.345678901234567890", "0.1", "-0.30", "19.99", "17432960", "0", "560470.66", "0.000000000000000001"} {
		var a Amount
		if err := json.Unmarshal([]byte(in), &a); err != nil {
			t.Fatalf("Unmarshal(%s): %v", in, err)
		}
		out, err := json.Marshal(a)
		if err != nil || string(out) != in {
			t.Errorf("round trip of %s = %s, %v", in, out, err)
		}
	}
	for in, want := range map[string]string{`"15.39"`: "15.39", `""`: "0", `null`: "0", ` 7 `: "7"} {
		var a Amount
		if err := json.Unmarshal([]byte(in), &a); err != nil || a.String() != want {
			t.Errorf("Unmarshal(%s) = %s, %v; want %s", in, a, err, want)
		}
	}
	for _, in := range []string{`"12abc"`, `"NaN"`, `"Infinity"`, `"0x10"`, `true`, `"1e999999999"`, `"` + string(make([]byte, 100)) + `"`} {
		var a Amount
		if err := json.Unmarshal([]byte(in), &a); err == nil {
			t.Errorf("Unmarshal(%.30q) = %s, want an error", in, a)
		}
	}
}

// TestAmountProperties compares Amount arithmetic with math/big.Rat on
// random decimals: both are exact, so they must agree digit for digit.
func TestAmountProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := func() (Amount, *big.Rat) {
		units := r.Int64N(2_000_000_000_000) - 1_000_000_000_000
		exp := -int32(r.IntN(9))
		s := NewAmount(units, exp).String()
		rat, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat cannot parse %s", s)
		}
		return MustParseAmount(s), rat
	}
	for range 2000 {
		a, ra := random()
		b, rb := random()
		n := r.Int64N(10_000)
		checks := []struct {
			op   string
			got  Amount
			want *big.Rat
		}{
			{"+", a.Add(b), new(big.Rat).Add(ra, rb)},
			{"-", a.Sub(b), new(big.Rat).Sub(ra, rb)},
			{"*", a.Mul(b), new(big.Rat).Mul(ra, rb)},
			{"*n", a.MulInt(n), new(big.Rat).Mul(ra, new(big.Rat).SetInt64(n))},
			{"*q", a.MulQuantity(Number(n)), new(big.Rat).Mul(ra, new(big.Rat).SetInt64(n))},
			{"neg", a.Neg(), new(big.Rat).Neg(ra)},
		}
		for _, c := range checks {
			if c.got.Rat().Cmp(c.want) != 0 {
				t.Fatalf("%s %s %s = %s, want %s", a, c.op, b, c.got, c.want.FloatString(20))
			}
			var back Amount
			if err := json.Unmarshal([]byte(c.got.String()), &back); err != nil || !back.Equal(c.got) {
				t.Fatalf("JSON round trip of %s = %s, %v", c.got, back, err)
			}
		}
		if a.Cmp(b) != ra.Cmp(rb) {
			t.Fatalf("Cmp(%s, %s) = %d, big.Rat says %d", a, b, a.Cmp(b), ra.Cmp(rb))
		}
		if !a.Add(b).Sub(b).Equal(a) || !a.Add(b).Equal(b.Add(a)) {
			t.Fatalf("a+b-b != a or a+b != b+a for %s, %s", a, b)
		}
	}
}

func TestMoney(t *testing.T) {
	usd := MustParseAmount("10.50").In("USD")
	sum, err := usd.Add(MustParseAmount("0.50").In("usd"))
	if err != nil || sum.String() != "11.00 USD" {
		t.Errorf("Add = %s, %v; want 11.00 USD", sum, err)
	}
	if _, err := usd.Add(AmountFromInt(1).In("EUR")); !errors.Is(err, ErrCurrencyMismatch) {
		t.Errorf("USD + EUR: err = %v, want ErrCurrencyMismatch", err)
	}
	if _, err := usd.Cmp(AmountFromInt(1).In("")); !errors.Is(err, ErrCurrencyMismatch) {
		t.Errorf("USD vs no currency: err = %v, want ErrCurrencyMismatch", err)
	}
	if d, err := usd.Sub(usd); err != nil || !d.Amount.IsZero() {
		t.Errorf("m - m = %s, %v", d, err)
	}
	b, _ := json.Marshal(usd)
	if string(b) != `{"amount":10.50,"currency":"USD"}` {
		t.Errorf("Marshal(Money) = %s", b)
	}
}

// TestRateOpenEnded checks that the spec's endQuantityRange null ("no end
// of range") is kept apart from 0, and that Contains honours it.
func TestRateOpenEnded(t *testing.T) {
	var rates []Rate
	body := `[{"partnerBuyRate":"9.60","suggestedRetailPrice":12,"startQuantityRange":1,"endQuantityRange":300},
		{"partnerBuyRate":8.9,"suggestedRetailPrice":11,"startQuantityRange":301,"endQuantityRange":null},
		{"partnerBuyRate":0,"suggestedRetailPrice":0,"endQuantityRange":0}]`
	if err := json.Unmarshal([]byte(body), &rates); err != nil {
		t.Fatal(err)
	}
	want := []Rate{
		{PartnerBuyRate: MustParseAmount("9.6"), SuggestedRetailPrice: AmountFromInt(12), StartQuantityRange: 1, EndQuantityRange: new(Number(300))},
		{PartnerBuyRate: MustParseAmount("8.9"), SuggestedRetailPrice: AmountFromInt(11), StartQuantityRange: 301},
		{EndQuantityRange: new(Number(0))},
	}
	if diff := cmp.Diff(want, rates); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for q, want := range map[Number][2]bool{1: {true, false}, 300: {true, false}, 301: {false, true}, 1_000_000: {false, true}} {
		if got := [2]bool{rates[0].Contains(q), rates[1].Contains(q)}; got != want {
			t.Errorf("Contains(%v) = %v, want %v", q, got, want)
		}
	}
	out, _ := json.Marshal(rates[1])
	if got := fmt.Sprint(string(out)); got != `{"partnerBuyRate":8.9,"suggestedRetailPrice":11,"startQuantityRange":301,"endQuantityRange":null}` {
		t.Errorf("Marshal(open-ended rate) = %s", got)
	}
}
