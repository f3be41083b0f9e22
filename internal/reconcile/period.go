package reconcile

import (
	"fmt"
	"time"

	"github.com/grantd/grantd/pax8"
)

// Period is one calendar month, written YYYY-MM. The zero Period is not
// valid; get one from [ParsePeriod].
type Period struct {
	Year  int
	Month time.Month
}

// ParsePeriod parses "2026-11".
func ParsePeriod(s string) (Period, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return Period{}, fmt.Errorf("period %.20q is not a month written YYYY-MM", s)
	}
	return Period{t.Year(), t.Month()}, nil
}

// String returns the period as YYYY-MM.
func (p Period) String() string { return fmt.Sprintf("%04d-%02d", p.Year, int(p.Month)) }

// MarshalText implements [encoding.TextMarshaler].
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// start returns the first day of the period in UTC.
func (p Period) start() time.Time { return time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, time.UTC) }

// contains reports whether d falls in the period.
func (p Period) contains(d pax8.Date) bool { return d.Year == p.Year && d.Month == p.Month }

// invoiced reports whether an invoice dated d may bill the period: Pax8
// invoices a month in arrears, so an invoice dated in the period or in the
// month after it.
func (p Period) invoiced(d pax8.Date) bool {
	t := d.Time(time.UTC)
	return !t.Before(p.start()) && t.Before(p.start().AddDate(0, 2, 0))
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
