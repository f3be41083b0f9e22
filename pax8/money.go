package pax8

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Amount is an exact decimal number: a price, a cost, a total or a rate as
// Pax8 sends it. Arithmetic on Amounts is exact (0.1 + 0.2 equals 0.3), and
// an Amount decodes from and encodes to a JSON number without going through
// float64, so "12.345678901234567890" survives a round trip digit for digit
// (trailing zeros included: "12.50" stays "12.50").
//
// The zero value is 0. Compare Amounts with [Amount.Cmp] or [Amount.Equal],
// not ==; go-cmp uses Equal, so 12.5 and 12.50 compare equal in tests.
// Pax8 attaches a currency to the object, not to each amount: use
// [Amount.In] with the object's CurrencyCode to get a [Money].
type Amount struct {
	d decimal.Decimal
}

// Limits on what [ParseAmount] accepts, so that a hostile or corrupt body
// cannot make arithmetic or formatting allocate without bound.
const (
	maxAmountLen = 80
	maxAmountExp = 64
)

// NewAmount returns value × 10^exp: NewAmount(1999, -2) is 19.99.
func NewAmount(value int64, exp int32) Amount {
	return Amount{decimal.New(value, exp)}
}

// AmountFromInt returns n as an Amount.
func AmountFromInt(n int64) Amount { return NewAmount(n, 0) }

// ParseAmount parses a decimal number such as "19.99", "-0.5" or "1e3".
// Surrounding spaces are ignored; NaN, infinities, hexadecimal and numbers
// longer than 80 characters or with an exponent beyond ±64 are refused.
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxAmountLen {
		return Amount{}, fmt.Errorf("pax8: cannot parse %.40q as an amount", s)
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789.+-eE", r) {
			return Amount{}, fmt.Errorf("pax8: cannot parse %.40q as an amount", s)
		}
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Amount{}, fmt.Errorf("pax8: cannot parse %.40q as an amount", s)
	}
	if e := d.Exponent(); e > maxAmountExp || e < -maxAmountExp {
		return Amount{}, fmt.Errorf("pax8: amount %.40q is out of range", s)
	}
	return Amount{d}, nil
}

// MustParseAmount is [ParseAmount] for constants; it panics on error.
func MustParseAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// Add returns a + b.
func (a Amount) Add(b Amount) Amount { return Amount{a.d.Add(b.d)} }

// Sub returns a - b.
func (a Amount) Sub(b Amount) Amount { return Amount{a.d.Sub(b.d)} }

// Neg returns -a.
func (a Amount) Neg() Amount { return Amount{a.d.Neg()} }

// Abs returns |a|.
func (a Amount) Abs() Amount { return Amount{a.d.Abs()} }

// Mul returns a × b, exactly.
func (a Amount) Mul(b Amount) Amount { return Amount{a.d.Mul(b.d)} }

// MulInt returns a × n, exactly: a unit price times a seat count.
func (a Amount) MulInt(n int64) Amount { return Amount{a.d.Mul(decimal.NewFromInt(n))} }

// MulQuantity returns a × q, where q is a quantity as Pax8 sends it. q is
// taken at its shortest decimal form (3 is 3, 2.5 is 2.5, 0.1 is 0.1, not
// the binary fraction nearest to it), so the product is exact for every
// quantity written in decimal in a JSON body.
func (a Amount) MulQuantity(q Number) Amount {
	d, err := decimal.NewFromString(strconv.FormatFloat(float64(q), 'g', -1, 64))
	if err != nil { // NaN or ±Inf cannot come from JSON
		return Amount{}
	}
	return Amount{a.d.Mul(d)}
}

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
func (a Amount) Cmp(b Amount) int { return a.d.Cmp(b.d) }

// Equal reports whether a and b are the same number (12.5 equals 12.50).
func (a Amount) Equal(b Amount) bool { return a.d.Equal(b.d) }

// Sign returns -1, 0 or +1 with the sign of a.
func (a Amount) Sign() int { return a.d.Sign() }

// IsZero reports whether a is 0.
func (a Amount) IsZero() bool { return a.d.IsZero() }

// Round returns a rounded to places decimal places, halves away from zero
// (19.995 → 20.00 at 2 places).
func (a Amount) Round(places int32) Amount { return Amount{a.d.Round(places)} }

// Exponent returns the power of ten of a's last digit as written: -2 for
// "12.50", 0 for "12".
func (a Amount) Exponent() int32 { return a.d.Exponent() }

// Rat returns a as an exact rational number.
func (a Amount) Rat() *big.Rat { return a.d.Rat() }

// Float64 returns the float64 nearest to a. It is for display and
// statistics only: arithmetic on the result is no longer exact.
func (a Amount) Float64() float64 {
	f, _ := a.d.Float64()
	return f
}

// String returns a in plain decimal notation, keeping the digits it was
// written with ("12.50", "-3", "0.000001"), never with an exponent.
func (a Amount) String() string {
	if e := a.d.Exponent(); e < 0 {
		return a.d.StringFixed(-e)
	}
	return a.d.String()
}

// StringFixed returns a rounded (halves away from zero) to places decimal
// places, with exactly that many: NewAmount(5, 0).StringFixed(2) is "5.00".
func (a Amount) StringFixed(places int32) string { return a.d.StringFixed(places) }

// MarshalJSON implements [json.Marshaler]: a JSON number, exactly as
// [Amount.String] writes it.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalJSON implements [json.Unmarshaler]. It accepts a JSON number, a
// string holding one (the live API sends some amounts as "15.39"), and ""
// or null, both 0. A field that must tell null from 0 is a *Amount:
// encoding/json leaves it nil for null.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*a = Amount{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			*a = Amount{}
			return nil
		}
	}
	p, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// In returns a as an amount of currency, an ISO 4217 code such as "USD"
// (Pax8's currencyCode).
func (a Amount) In(currency string) Money { return Money{Amount: a, Currency: currency} }

// Money is an [Amount] in a currency. Its arithmetic refuses to mix
// currencies: adding USD to EUR is an error, not a number. An empty
// Currency (Pax8 gave none) only matches another empty one.
type Money struct {
	Amount   Amount `json:"amount"`
	Currency string `json:"currency,omitempty"`
}

// ErrCurrencyMismatch is returned when [Money] of two currencies is
// combined.
var ErrCurrencyMismatch = errors.New("pax8: currencies differ")

func (m Money) same(o Money) error {
	if !strings.EqualFold(m.Currency, o.Currency) {
		return fmt.Errorf("%w: %q and %q", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	return nil
}

// Add returns m + o; it fails with [ErrCurrencyMismatch] if their
// currencies differ.
func (m Money) Add(o Money) (Money, error) {
	if err := m.same(o); err != nil {
		return Money{}, err
	}
	return Money{m.Amount.Add(o.Amount), m.Currency}, nil
}

// Sub returns m - o; it fails with [ErrCurrencyMismatch] if their
// currencies differ.
func (m Money) Sub(o Money) (Money, error) {
	if err := m.same(o); err != nil {
		return Money{}, err
	}
	return Money{m.Amount.Sub(o.Amount), m.Currency}, nil
}

// Cmp compares m and o as [Amount.Cmp] does; it fails with
// [ErrCurrencyMismatch] if their currencies differ.
func (m Money) Cmp(o Money) (int, error) {
	if err := m.same(o); err != nil {
		return 0, err
	}
	return m.Amount.Cmp(o.Amount), nil
}

// Equal reports whether m and o are the same amount in the same currency.
func (m Money) Equal(o Money) bool {
	return m.same(o) == nil && m.Amount.Equal(o.Amount)
}

// String returns "12.50 USD", or just the amount without a currency.
func (m Money) String() string {
	if m.Currency == "" {
		return m.Amount.String()
	}
	return m.Amount.String() + " " + m.Currency
}
