package orgmap_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grantd/grantd/internal/testenv"

	"github.com/grantd/grantd/internal/orgmap"
)

// TestChromiumAcceptSuggestion opens the mapping page from an API-created
// link in a real browser, accepts one suggestion with its button (a
// same-origin form POST through CrossOriginProtection, then a redirect),
// maps an unmapped company with the select form, and checks both through
// the API.
func TestChromiumAcceptSuggestion(t *testing.T) {
	bctx := testenv.Browser(t)
	v := newEnv(t)
	conn := v.connA.ID
	companies := v.mappings(v.keyA, conn).UnmappedCompanies
	orgs := []orgmap.Organization{
		{ID: "org-1", Name: strings.ToUpper(companies[0].Name) + " Inc."},
		{ID: "org-2", Name: "Zzyzx Unrelated Holdings"},
	}
	if st := v.do(v.keyA, http.MethodPut, "/v1/organizations", map[string]any{"organizations": orgs}, nil); st != http.StatusOK {
		t.Fatalf("PUT organizations = %d", st)
	}
	var l struct{ URL string }
	if st := v.do(v.keyA, http.MethodPost, "/v1/connections/"+conn+"/mapping-links", nil, &l); st != http.StatusCreated {
		t.Fatalf("POST mapping-links = %d", st)
	}
	page := v.srv.URL + l.URL[strings.Index(l.URL, orgmap.PagePath):]

	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	accept := "#accept-" + companies[0].ID
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(accept))); err != nil {
		t.Fatalf("open mapping page: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#suggested tr[data-company="`+companies[0].ID+`"]`)))
	if err != nil || !strings.Contains(row, companies[0].Name) || !strings.Contains(row, orgs[0].Name) {
		t.Fatalf("suggestion row = %q, %v; want %q and %q", row, err, companies[0].Name, orgs[0].Name)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(accept)), chromedp.WaitVisible(chromedp.ID("notice"))); err != nil {
		t.Fatalf("accept suggestion: %v", err)
	}
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("notice")))
	if err != nil || notice != "Suggestion accepted." {
		t.Errorf("notice = %q, %v; want Suggestion accepted.", notice, err)
	}
	mapped, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("mapped")))
	if err != nil || !strings.Contains(mapped, companies[0].Name) {
		t.Errorf("mapped section = %q, %v; want %q in it", mapped, err, companies[0].Name)
	}

	// Map the second company to the unrelated organisation with its form.
	// The first post's notice is still on the page, so wait for the new
	// page's: the row for companies[1] in the mapped section.
	form := `#unmapped-companies tr[data-company="` + companies[1].ID + `"]`
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(form+` select`), "org-2"),
		chromedp.Click(chromedp.CSS(form+` button`)),
		chromedp.WaitVisible(chromedp.CSS(`#mapped tr[data-company="`+companies[1].ID+`"]`)),
	); err != nil {
		t.Fatalf("set mapping: %v", err)
	}
	if notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("notice"))); err != nil || notice != "Mapping saved." {
		t.Errorf("notice = %q, %v; want Mapping saved.", notice, err)
	}

	// Once the cache period is over, the Refresh link lists the companies
	// from Pax8 again: one walk.
	v.clk.Advance(orgmap.DefaultCompanyCacheTTL)
	before := v.e.APICalls()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("refresh")), chromedp.WaitNotPresent(chromedp.ID("notice"))); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := v.e.APICalls() - before; got != 1 {
		t.Errorf("the Refresh link made %d Pax8 requests, want 1 (one page of companies)", got)
	}
	if mapped, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("mapped"))); err != nil || !strings.Contains(mapped, companies[1].Name) {
		t.Errorf("mapped section after refresh = %q, %v; want %q in it", mapped, err, companies[1].Name)
	}

	res := v.mappings(v.keyA, conn)
	got := map[string]string{}
	for _, m := range res.Mappings {
		got[m.CompanyID] = m.OrgID
	}
	want := map[string]string{companies[0].ID: "org-1", companies[1].ID: "org-2"}
	if len(got) != 2 || got[companies[0].ID] != "org-1" || got[companies[1].ID] != "org-2" {
		t.Errorf("mappings after the page = %v, want %v", got, want)
	}
}

// TestPageRefusesCrossOriginPost checks that a form post from another
// origin is refused and changes nothing.
func TestPageRefusesCrossOriginPost(t *testing.T) {
	v := newEnv(t)
	conn := v.connA.ID
	company := v.mappings(v.keyA, conn).UnmappedCompanies[0].ID
	if st := v.do(v.keyA, http.MethodPut, "/v1/organizations",
		map[string]any{"organizations": []orgmap.Organization{{ID: "org-1", Name: "One"}}}, nil); st != http.StatusOK {
		t.Fatalf("PUT organizations = %d", st)
	}
	var l struct{ URL string }
	if st := v.do(v.keyA, http.MethodPost, "/v1/connections/"+conn+"/mapping-links", nil, &l); st != http.StatusCreated {
		t.Fatalf("POST mapping-links = %d", st)
	}
	page := v.srv.URL + l.URL[strings.Index(l.URL, orgmap.PagePath):]
	body := "action=set&company_id=" + company + "&org_id=org-1"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, page, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := v.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", resp.StatusCode)
	}
	if n := len(v.mappings(v.keyA, conn).Mappings); n != 0 {
		t.Errorf("mappings after a refused post = %d, want 0", n)
	}
	// The same post from the page's origin works, and answers with a
	// redirect to the page.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, page, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	noFollow := *v.client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=set") {
		t.Errorf("same-origin POST = %d to %q, want 303 to the page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := len(v.mappings(v.keyA, conn).Mappings); n != 1 {
		t.Errorf("mappings after the post = %d, want 1", n)
	}
	// Expired and unknown links get pages, not data.
	for _, tc := range []struct {
		url    string
		status int
	}{
		{page + "x", http.StatusNotFound},
	} {
		resp, err := v.client.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s = %d (Referrer-Policy %q), want %d with no-referrer", tc.url, resp.StatusCode, resp.Header.Get("Referrer-Policy"), tc.status)
		}
	}
	v.clk.Advance(2 * time.Hour)
	resp, err = v.client.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("GET expired page = %d, want 410", resp.StatusCode)
	}
}
