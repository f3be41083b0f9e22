package pax8

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time is a timestamp as Pax8 sends it. It embeds [time.Time] and decodes
// every form the live API has been seen to use: RFC 3339 ("2021-01-01T08:30:00Z"),
// offsets without a colon ("2023-08-11T11:33:12.314-0600"), timestamps without
// a zone (read as UTC) and bare dates ("2020-12-03", read as midnight UTC),
// which Pax8 returns in some fields documented as date-times. JSON null and ""
// decode to the zero Time. Time encodes as RFC 3339 with milliseconds; the zero
// Time is omitted from request bodies by the omitzero tags on our types.
type Time struct {
	time.Time
}

// timeLayouts are tried in order when decoding a [Time].
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02T15:04:05.999999999-07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	time.DateOnly,
}

// ParseTime parses s in any of the layouts described at [Time].
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return Time{t}, nil
		}
	}
	return Time{}, fmt.Errorf("pax8: cannot parse %q as a time", s)
}

// UnmarshalJSON implements [json.Unmarshaler].
func (t *Time) UnmarshalJSON(b []byte) error {
	s, ok, err := jsonString(b)
	if err != nil || !ok {
		*t = Time{}
		return err
	}
	if s == "" {
		*t = Time{}
		return nil
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// MarshalJSON implements [json.Marshaler]. Pax8 documents cancelDate and other
// inputs as RFC 3339 date-times.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Format("2006-01-02T15:04:05.000Z07:00"))
}

// Date is a calendar date (yyyy-MM-dd), used by Pax8 for invoice dates,
// billing starts and usage days. It decodes a full timestamp too, keeping its
// date part as written. The zero Date encodes as null.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a yyyy-MM-dd date, or the date part of any timestamp
// accepted by [ParseTime].
func ParseDate(s string) (Date, error) {
	t, err := ParseTime(s)
	if err != nil {
		return Date{}, fmt.Errorf("pax8: cannot parse %q as a date", s)
	}
	return DateOf(t.Time), nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String returns d as yyyy-MM-dd, the form Pax8 expects in query filters.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// UnmarshalJSON implements [json.Unmarshaler].
func (d *Date) UnmarshalJSON(b []byte) error {
	s, ok, err := jsonString(b)
	if err != nil || !ok || s == "" {
		*d = Date{}
		return err
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// MarshalJSON implements [json.Marshaler].
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// Number is a quantity, a count or a duration in months as a JSON number,
// which Pax8 sometimes sends as a string ("15"). It is a float64, so it
// supports arithmetic and untyped constants directly; it encodes as a plain
// JSON number. Money is never a Number: prices, costs and totals are
// [Amount]s, which are exact.
type Number float64

// UnmarshalJSON implements [json.Unmarshaler]. It accepts a number, a string
// holding a number, "" and null (both zero).
func (n *Number) UnmarshalJSON(b []byte) error {
	f, err := flexFloat(b)
	*n = Number(f)
	return err
}

// Int returns n rounded towards zero.
func (n Number) Int() int { return int(n) }

// flexInt is an int that also decodes from a string or a float with no
// fraction; used for page metadata, whose types the spec leaves open.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	f, err := flexFloat(b)
	if err != nil {
		return err
	}
	*n = flexInt(f)
	return nil
}

func flexFloat(b []byte) (float64, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return 0, nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("pax8: cannot parse %s as a number", b)
	}
	return f, nil
}

// jsonString decodes a JSON string; ok is false for null.
func jsonString(b []byte) (s string, ok bool, err error) {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return "", false, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false, fmt.Errorf("pax8: want a JSON string, got %.40s", b)
	}
	return s, true, nil
}
