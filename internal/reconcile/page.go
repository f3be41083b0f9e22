package reconcile

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"

	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/pax8"
)

//go:embed templates/*.html
var templateFS embed.FS

var reportTmpl = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"money": func(m pax8.Money) string { return m.Amount.StringFixed(2) },
}).ParseFS(templateFS, "templates/report.html"))

// sortKeys are the report table's sortable columns.
var sortKeys = map[string]func(a, b Line) int{
	"company":  func(a, b Line) int { return cmp.Compare(a.CompanyName+a.CompanyID, b.CompanyName+b.CompanyID) },
	"product":  func(a, b Line) int { return cmp.Compare(a.ProductName+a.ProductKey, b.ProductName+b.ProductKey) },
	"category": func(a, b Line) int { return cmp.Compare(a.Category, b.Category) },
	"charged":  func(a, b Line) int { return a.Charged.Amount.Cmp(b.Charged.Amount) },
	"billed":   func(a, b Line) int { return a.Billed.Amount.Cmp(b.Billed.Amount) },
	"at_stake": func(a, b Line) int { return a.AtStake.Amount.Cmp(b.AtStake.Amount) },
}

// bar is one bar of the chart of money at stake by category.
type bar struct {
	Category Category
	Lines    int
	AtStake  pax8.Money
	Y, Width int
}

// column is a sortable table header: its link sorts by it, flipping the
// direction when it is the current sort.
type column struct {
	Key, Label, Href, Arrow string
	Numeric                 bool
}

type reportPage struct {
	Nonce   string
	R       *Report
	Flagged int
	Bars    []bar
	Height  int
	Columns []column
	Lines   []Line
}

// SortLines sorts lines by the named column, "asc" or "desc"; ties keep
// the report's order. It reports false for an unknown column or
// direction.
func SortLines(lines []Line, key, dir string) bool {
	f, ok := sortKeys[key]
	if !ok || dir != "asc" && dir != "desc" {
		return false
	}
	slices.SortStableFunc(lines, func(a, b Line) int {
		if dir == "desc" {
			return f(b, a)
		}
		return f(a, b)
	})
	return true
}

// RenderReport writes the report as an HTML page sorted by sort and dir;
// base is the page's own URL, for the sort links.
func RenderReport(w http.ResponseWriter, rep *Report, base url.URL, sort, dir string) error {
	lines := slices.Clone(rep.Lines)
	if !SortLines(lines, sort, dir) {
		return &httpapi.Error{Code: httpapi.CodeInvalidRequest, Field: "sort",
			Message: `"sort" must be company, product, category, charged, billed or at_stake, and "dir" asc or desc`}
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	p := reportPage{Nonce: base64.StdEncoding.EncodeToString(nonce), R: rep, Lines: lines}
	var max pax8.Amount
	for _, t := range rep.Totals {
		if t.Category == Matched {
			continue
		}
		p.Flagged += t.Lines
		if t.AtStake.Amount.Cmp(max) > 0 {
			max = t.AtStake.Amount
		}
	}
	for i, t := range rep.Totals[1:] {
		width := 0
		if max.Sign() > 0 {
			width = int(t.AtStake.Amount.Mul(pax8.AmountFromInt(400)).Float64() / max.Float64())
		}
		p.Bars = append(p.Bars, bar{Category: t.Category, Lines: t.Lines, AtStake: t.AtStake, Y: i * 28, Width: width})
	}
	p.Height = len(p.Bars) * 28
	for _, c := range []struct {
		key, label string
		num        bool
	}{{"company", "Company", false}, {"product", "Product", false}, {"category", "Category", false},
		{"charged", "Charged", true}, {"billed", "Billed", true}, {"at_stake", "At stake", true}} {
		q := base.Query()
		q.Set("sort", c.key)
		col := column{Key: c.key, Label: c.label, Numeric: c.num}
		next := "asc"
		if c.num {
			next = "desc"
		}
		if c.key == sort {
			col.Arrow = map[string]string{"asc": "▲", "desc": "▼"}[dir]
			next = map[string]string{"asc": "desc", "desc": "asc"}[dir]
		}
		q.Set("dir", next)
		u := base
		u.RawQuery = q.Encode()
		col.Href = u.RequestURI()
		p.Columns = append(p.Columns, col)
	}
	var buf bytes.Buffer
	if err := reportTmpl.Execute(&buf, p); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+p.Nonce+"'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	httpapi.NoStore(w)
	_, err := w.Write(buf.Bytes())
	return err
}

func (s *Service) getReport(w http.ResponseWriter, r *http.Request) error {
	period, err := queryPeriod(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	sort, dir := cmp.Or(q.Get("sort"), "at_stake"), cmp.Or(q.Get("dir"), "desc")
	if _, ok := sortKeys[sort]; !ok || dir != "asc" && dir != "desc" {
		return RenderReport(w, &Report{}, *r.URL, sort, dir) // the 400
	}
	rep, err := s.Reconcile(r.Context(), tenant(r), r.PathValue("id"), period, nil)
	if err != nil {
		return err
	}
	return RenderReport(w, rep, *r.URL, sort, dir)
}
