package reconcile_test

import (
	"context"
	goflag "flag"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grantd/grantd/internal/testenv"
)

var screenshot = goflag.String("screenshot", "", "write the report page's screenshot to this PNG file (docs/reconciliation-report.png)")

// TestChromiumReport opens the report page in real Chromium, with the
// sandbox's discrepancies seeded: the cards count the flagged lines, the
// chart has a bar per category, the page's style applies under its
// Content-Security-Policy, and the column links sort the table.
func TestChromiumReport(t *testing.T) {
	bctx := testenv.Browser(t)
	v := newAPIEnv(t, true)
	p := v.period.String()
	if st, b := v.do("POST", "/v1/billing/"+p, "text/csv", v.csv); st != http.StatusOK {
		t.Fatalf("POST billing = %d %s", st, b)
	}
	if st, b := v.do("POST", "/v1/connections/"+v.conn.ID+"/product-mappings/accept-suggestions", "application/json", `{"period":"`+p+`"}`); st != http.StatusOK {
		t.Fatalf("accept suggestions = %d %s", st, b)
	}
	// The application in front of grantd adds the tenant's key, as a
	// logged-in back office would.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+v.key)
		v.api.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	page := front.URL + "/v1/connections/" + v.conn.ID + "/reconciliation/report?period=" + p
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900), chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("chart"))); err != nil {
		t.Fatalf("open report: %v", err)
	}
	flagged, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#card-flagged b")))
	if err != nil || flagged != "5" {
		t.Errorf("flagged card = %q, %v; want 5", flagged, err)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#chart g.bar').length`))
	if err != nil || bars != 7 {
		t.Errorf("chart bars = %d, %v; want 7 (one per category but matched)", bars, err)
	}
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#chart g.bar rect')).filter(r => +r.getAttribute('width') > 0).map(r => r.parentNode.dataset.category)`))
	slices.Sort(widths)
	if want := []string{"below_cost", "cancelled_but_charged", "quantity_mismatch", "unmapped_company"}; err != nil || !slices.Equal(widths, want) {
		t.Errorf("categories with a bar = %v, %v; want %v", widths, err, want)
	}
	radius, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.card')).borderTopLeftRadius`))
	if err != nil || radius != "6px" {
		t.Errorf("card border radius = %q, %v; want 6px (the nonce'd style applies under the CSP)", radius, err)
	}
	// Default order: money at stake, largest first.
	stakes, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll('#lines tbody td.at-stake')).map(td => +td.textContent)`))
	if err != nil || len(stakes) < 6 || !slices.IsSortedFunc(stakes, func(a, b float64) int { return int(b*100) - int(a*100) }) || stakes[0] <= 0 {
		t.Errorf("at stake column = %v, %v; want descending, largest first", stakes, err)
	}
	if *screenshot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Sort by company with the header link.
	companies := func() []string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#lines tbody tr td:first-child')).map(td => td.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th[data-key="company"] a`)), chromedp.WaitVisible(chromedp.CSS(`th[data-key="company"]`))); err != nil {
		t.Fatalf("sort by company: %v", err)
	}
	waitFor(t, ctx, `location.search.includes('sort=company') && document.readyState === 'complete'`)
	got := companies()
	if !slices.IsSortedFunc(got, strings.Compare) || len(got) != len(stakes) {
		t.Errorf("companies after sorting by company = %v, want ascending, %d rows", got, len(stakes))
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th[data-key="company"] a`))); err != nil {
		t.Fatalf("sort by company again: %v", err)
	}
	waitFor(t, ctx, `location.search.includes('dir=desc') && document.readyState === 'complete'`)
	got = companies()
	if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("companies after sorting again = %v, want descending", got)
	}
}

// waitFor evaluates expr until it is true, across the navigation a click
// starts (an evaluation may fail while the old page goes away).
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	for ctx.Err() == nil {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: %v", expr, ctx.Err())
}
