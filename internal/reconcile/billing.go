package reconcile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/grantd/grantd/pax8"
)

// MaxBillingLines bounds one period's upload.
const MaxBillingLines = 100_000

// Problem is one thing wrong with a billing upload, by line (1-based; the
// CSV header is line 1). Reason is a stable word: unknown_column,
// missing_column, malformed, missing_value, invalid_number, negative,
// duplicate_line, unknown_organization, too_many_lines.
type Problem struct {
	Line    int
	Column  string
	Reason  string
	Message string
}

// Problems is every problem of an upload; it is an error.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s) in the billing upload", len(ps))
	for i, p := range ps {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(ps)-10)
			break
		}
		fmt.Fprintf(&b, "; %s", p.Message)
	}
	return b.String()
}

// billingColumns are the CSV columns, in any order, all required.
var billingColumns = []string{"org", "product", "quantity", "unit_price"}

// rawLine is one line as read, before its numbers are parsed.
type rawLine struct {
	line                              int
	org, product, quantity, unitPrice string
}

// ParseBillingCSV reads a billing upload in CSV: a header naming the
// columns org, product, quantity and unit_price (in any order, no
// others), then one line per organisation and product. It returns the
// lines, or every problem found ([Problems]) and no lines.
func ParseBillingCSV(r io.Reader) ([]BillingLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var ps Problems
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{Line: 1, Reason: "missing_column", Message: "line 1: the upload is empty; it needs the header org,product,quantity,unit_price"}}
		}
		return nil, Problems{{Line: 1, Reason: "malformed", Message: "line 1: " + csvMessage(err)}}
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case !slices.Contains(billingColumns, h):
			ps = append(ps, Problem{Line: 1, Column: h, Reason: "unknown_column",
				Message: fmt.Sprintf("line 1: unknown column %q (the columns are org, product, quantity, unit_price)", h)})
		case idx[h] != 0:
			ps = append(ps, Problem{Line: 1, Column: h, Reason: "unknown_column", Message: fmt.Sprintf("line 1: column %q appears twice", h)})
		default:
			idx[h] = i + 1
		}
	}
	for _, c := range billingColumns {
		if idx[c] == 0 {
			ps = append(ps, Problem{Line: 1, Column: c, Reason: "missing_column", Message: fmt.Sprintf("line 1: column %q is missing", c)})
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	var raws []rawLine
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			ps = append(ps, Problem{Line: line, Reason: "malformed", Message: fmt.Sprintf("line %d: %s", line, csvMessage(err))})
			if len(ps) > 100 {
				break
			}
			continue
		}
		if len(raws) == MaxBillingLines {
			ps = append(ps, Problem{Line: line, Reason: "too_many_lines", Message: fmt.Sprintf("line %d: an upload holds at most %d lines", line, MaxBillingLines)})
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		field := func(c string) string {
			if i := idx[c] - 1; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		raws = append(raws, rawLine{line: line, org: field("org"), product: field("product"),
			quantity: field("quantity"), unitPrice: field("unit_price")})
	}
	lines, more := parseLines(raws)
	ps = append(ps, more...)
	if len(ps) > 0 {
		slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
		return nil, ps
	}
	return lines, nil
}

// jsonLine is one line of a JSON lines upload.
type jsonLine struct {
	Org       string          `json:"org"`
	Product   string          `json:"product"`
	Quantity  json.RawMessage `json:"quantity"`
	UnitPrice json.RawMessage `json:"unit_price"`
}

// ParseBillingJSONLines reads a billing upload as JSON lines: one object
// {"org", "product", "quantity", "unit_price"} per line, numbers as JSON
// numbers or strings ("19.99"), no other fields. Errors as
// [ParseBillingCSV].
func ParseBillingJSONLines(r io.Reader) ([]BillingLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var ps Problems
	var raws []rawLine
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(raws) == MaxBillingLines {
			ps = append(ps, Problem{Line: n, Reason: "too_many_lines", Message: fmt.Sprintf("line %d: an upload holds at most %d lines", n, MaxBillingLines)})
			break
		}
		var jl jsonLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&jl); err != nil {
			reason := "malformed"
			if strings.Contains(err.Error(), "unknown field") {
				reason = "unknown_column"
			}
			ps = append(ps, Problem{Line: n, Reason: reason, Message: fmt.Sprintf("line %d: %s", n, strings.TrimPrefix(err.Error(), "json: "))})
			continue
		}
		raws = append(raws, rawLine{line: n, org: strings.TrimSpace(jl.Org), product: strings.TrimSpace(jl.Product),
			quantity: jsonNumber(jl.Quantity), unitPrice: jsonNumber(jl.UnitPrice)})
	}
	if err := sc.Err(); err != nil {
		ps = append(ps, Problem{Line: n + 1, Reason: "malformed", Message: fmt.Sprintf("line %d: %v", n+1, err)})
	}
	lines, more := parseLines(raws)
	ps = append(ps, more...)
	if len(ps) > 0 {
		slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
		return nil, ps
	}
	return lines, nil
}

// jsonNumber returns a JSON number's text, or a JSON string's content.
func jsonNumber(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(string(b))
}

// parseLines checks each line's values and that no organisation and
// product appear twice.
func parseLines(raws []rawLine) ([]BillingLine, Problems) {
	var ps Problems
	out := make([]BillingLine, 0, len(raws))
	first := map[[2]string]int{}
	for _, r := range raws {
		bad := false
		problem := func(col, reason, format string, args ...any) {
			ps = append(ps, Problem{Line: r.line, Column: col, Reason: reason,
				Message: fmt.Sprintf("line %d: ", r.line) + fmt.Sprintf(format, args...)})
			bad = true
		}
		if r.org == "" {
			problem("org", "missing_value", "org is empty")
		}
		if r.product == "" {
			problem("product", "missing_value", "product is empty")
		}
		number := func(col, s string) pax8.Amount {
			if s == "" {
				problem(col, "missing_value", "%s is empty", col)
				return pax8.Amount{}
			}
			a, err := pax8.ParseAmount(s)
			if err != nil {
				problem(col, "invalid_number", "%s %.40q is not a number", col, s)
				return a
			}
			if a.Sign() < 0 {
				problem(col, "negative", "%s %s is negative", col, s)
			}
			return a
		}
		q := number("quantity", r.quantity)
		p := number("unit_price", r.unitPrice)
		k := [2]string{r.org, r.product}
		if prev, dup := first[k]; dup {
			problem("", "duplicate_line", "org %.60q and product %.60q were already billed on line %d", r.org, r.product, prev)
		} else if r.org != "" && r.product != "" {
			first[k] = r.line
		}
		if !bad {
			out = append(out, BillingLine{Line: r.line, OrgID: r.org, Product: r.product, Quantity: q, UnitPrice: p})
		}
	}
	return out, ps
}

// CheckOrganizations returns a problem for each line whose organisation
// is not among orgs.
func CheckOrganizations(lines []BillingLine, orgs map[string]bool) Problems {
	var ps Problems
	for _, l := range lines {
		if !orgs[l.OrgID] {
			ps = append(ps, Problem{Line: l.Line, Column: "org", Reason: "unknown_organization",
				Message: fmt.Sprintf("line %d: organisation %.60q is not one of the tenant's organisations", l.Line, l.OrgID)})
		}
	}
	return ps
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
