package orgmap_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/grantd/grantd/internal/orgmap"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/pax8api"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/upstream"
	"github.com/grantd/grantd/pax8"
)

// cachedEnv is an env whose sandbox partner has n companies, with
// organisations uploaded for tenant A (variants of three company names
// and an unrelated one) and a mapping page link. It returns the page URL.
func cachedEnv(t testing.TB, n int, edit func(*orgmap.Options)) (*env, string) {
	t.Helper()
	v := newEnvWith(t, testenv.Options{Sandbox: sandbox.Options{APISize: pax8api.Size{Companies: n}}}, edit)
	companies := v.mappings(v.keyA, v.connA.ID).UnmappedCompanies
	orgs := []orgmap.Organization{
		{ID: "org-1", Name: strings.ToUpper(companies[0].Name) + " Inc."},
		{ID: "org-2", Name: "The " + companies[1].Name},
		{ID: "org-3", Name: companies[2].Name + " LLC"},
		{ID: "org-9", Name: "Zzyzx Unrelated Holdings"},
	}
	if st := v.do(v.keyA, http.MethodPut, "/v1/organizations", map[string]any{"organizations": orgs}, nil); st != http.StatusOK {
		t.Fatalf("PUT organizations = %d", st)
	}
	var l struct{ URL string }
	if st := v.do(v.keyA, http.MethodPost, "/v1/connections/"+v.connA.ID+"/mapping-links", nil, &l); st != http.StatusCreated {
		t.Fatalf("POST mapping-links = %d", st)
	}
	return v, v.srv.URL + l.URL[strings.Index(l.URL, orgmap.PagePath):]
}

// page GETs the mapping page (plus query) and returns its status and body.
func (v *env) page(url string) (int, string) {
	v.t.Helper()
	resp, err := v.client.Get(url)
	if err != nil {
		v.t.Fatalf("GET page: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestMappingViewsUseCachedCompanies counts the Pax8 API requests the
// sandbox answers (its stats) around each step of a mapping session: the
// companies are walked once, then page views, API reads and accepted
// suggestions within the TTL make no Pax8 call at all; concurrent views
// after the TTL make one walk between them; a refresh, the TTL and a
// company found renamed at Pax8 each cause exactly one new walk. Another
// tenant still gets 404 and a connection that needs reauthorisation its
// error, not the cached list (SEC-43).
func TestMappingViewsUseCachedCompanies(t *testing.T) {
	const n = 450 // three pages of pax8.MaxPageSize
	walk := (n + pax8.MaxPageSize - 1) / pax8.MaxPageSize
	v, page := cachedEnv(t, n, nil)
	conn := v.connA.ID
	api := "/v1/connections/" + conn + "/org-mappings"
	step := func(what string, want int, f func()) {
		t.Helper()
		before := v.e.APICalls()
		f()
		if got := v.e.APICalls() - before; got != want {
			t.Errorf("%s: %d Pax8 API requests, want %d", what, got, want)
		}
	}

	step("20 concurrent views within the TTL (10 pages, 10 API reads)", 0, func() {
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if i%2 == 0 {
					if st, body := v.page(page); st != http.StatusOK || !strings.Contains(body, `id="refresh"`) {
						t.Errorf("GET page = %d (refresh link: %v), want 200 with the link", st, strings.Contains(body, `id="refresh"`))
					}
				} else if got := len(v.mappings(v.keyA, conn).UnmappedCompanies); got != n {
					t.Errorf("unmapped companies = %d, want %d", got, n)
				}
			})
		}
		wg.Wait()
	})
	res := v.mappings(v.keyA, conn)
	if len(res.Suggestions) != 3 || res.CompaniesListedAt.IsZero() {
		t.Fatalf("suggestions = %d, companies_listed_at %v; want 3 and a time", len(res.Suggestions), res.CompaniesListedAt)
	}
	step("accepting a suggestion on the page, then the page", 0, func() {
		st := v.post(page, "action=accept&company_id="+res.Suggestions[0].CompanyID)
		if st != http.StatusOK {
			t.Errorf("accept = %d, want 200 after the redirect", st)
		}
	})
	c3 := res.UnmappedCompanies[3]
	step("setting a mapping (the company is read from Pax8), then a view", 1, func() {
		if st := v.do(v.keyA, http.MethodPut, api+"/"+c3.ID, map[string]string{"org_id": "org-9"}, nil); st != http.StatusOK {
			t.Errorf("PUT mapping = %d", st)
		}
		v.mappings(v.keyA, conn)
	})
	step("the page's refresh link and the API's ?refresh=true within the TTL", 0, func() {
		v.page(page + "?refresh=1")
		var fresh orgmap.Result
		if st := v.do(v.keyA, http.MethodGet, api+"?refresh=true", nil, &fresh); st != http.StatusOK {
			t.Errorf("GET ?refresh=true = %d", st)
		}
	})
	v.clk.Advance(orgmap.DefaultCompanyCacheTTL)
	step("the page's refresh link", walk, func() {
		if st, body := v.page(page + "?refresh=1"); st != http.StatusOK || !strings.Contains(body, "Companies as listed by Pax8 at") {
			t.Errorf("GET page?refresh=1 = %d, want 200 with the listing time", st)
		}
		v.page(page)
	})
	v.clk.Advance(orgmap.DefaultCompanyCacheTTL)
	step("the API's ?refresh=true, then a plain read", walk, func() {
		var fresh orgmap.Result
		if st := v.do(v.keyA, http.MethodGet, api+"?refresh=true", nil, &fresh); st != http.StatusOK {
			t.Errorf("GET ?refresh=true = %d", st)
		}
		v.mappings(v.keyA, conn)
	})
	var e apiError
	step("a bad refresh value", 0, func() {
		if st := v.do(v.keyA, http.MethodGet, api+"?refresh=soon", nil, &e); st != http.StatusBadRequest || e.Error.Code != "invalid_request" {
			t.Errorf("GET ?refresh=soon = %d %q, want 400 invalid_request", st, e.Error.Code)
		}
	})

	// A company renamed at Pax8: views within the TTL still show the old
	// name; mapping it reads the new one, which drops the stale list.
	c4 := res.UnmappedCompanies[4]
	ctx := upstream.WithConnection(t.Context(), v.tenA.ID, conn)
	pc := pax8.NewClient(&http.Client{Transport: &upstream.Transport{Tokens: v.e.Broker, Providers: v.e.Providers}},
		pax8.WithBaseURL(v.e.Provider.API.BaseURL))
	renamed := c4.Name + " Renamed"
	if _, err := pc.Companies.Update(ctx, c4.ID, &pax8.CompanyUpdate{Name: &renamed}); err != nil {
		t.Fatalf("rename at Pax8: %v", err)
	}
	step("a view after the rename, within the TTL", 0, func() {
		if _, body := v.page(page); strings.Contains(body, renamed) {
			t.Error("the page shows the new name before the list is refreshed")
		}
	})
	step("mapping the renamed company, then a view", 1+walk, func() {
		if st := v.do(v.keyA, http.MethodPut, api+"/"+c4.ID, map[string]string{"org_id": "org-2"}, nil); st != http.StatusOK {
			t.Errorf("PUT mapping = %d", st)
		}
		if _, body := v.page(page); !strings.Contains(body, renamed) {
			t.Error("the page does not show the new name after the mapping was written")
		}
	})

	v.clk.Advance(orgmap.DefaultCompanyCacheTTL)
	step("8 concurrent views when the TTL is over", walk, func() {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { v.mappings(v.keyA, conn) })
		}
		wg.Wait()
	})

	step("tenant B asking for A's cached connection (SEC-43)", 0, func() {
		if st := v.do(v.keyB, http.MethodGet, api, nil, &e); st != http.StatusNotFound {
			t.Errorf("GET as tenant B = %d, want 404", st)
		}
	})
	if _, err := v.e.Store.UpdateConnection(t.Context(), conn, func(c store.Connection) (store.Connection, error) {
		c.Status = store.StatusNeedsReauth
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	step("a view once the connection needs reauthorisation", 0, func() {
		if st := v.do(v.keyA, http.MethodGet, api, nil, &e); st != http.StatusConflict || e.Error.Code != "needs_reauth" {
			t.Errorf("GET = %d %q, want 409 needs_reauth, not the cached list", st, e.Error.Code)
		}
	})
}

// TestMappingCacheOff checks that a negative CompanyCacheTTL lists the
// companies on every view.
func TestMappingCacheOff(t *testing.T) {
	v, page := cachedEnv(t, 30, func(o *orgmap.Options) { o.CompanyCacheTTL = -1 })
	before := v.e.APICalls()
	v.page(page)
	v.mappings(v.keyA, v.connA.ID)
	if got := v.e.APICalls() - before; got != 2 {
		t.Errorf("2 views with the cache off made %d Pax8 requests, want 2", got)
	}
}

// post sends a same-origin form post to the page, following the redirect,
// and returns the final status.
func (v *env) post(page, form string) int {
	v.t.Helper()
	req, err := http.NewRequestWithContext(v.t.Context(), http.MethodPost, page, strings.NewReader(form))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("POST page: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// BenchmarkMappingPage measures a view of the mapping page of a connection
// with 1,000 Pax8 companies (five pages), with the company cache (views
// within the TTL) and without it (CompanyCacheTTL -1, as before the
// cache), and reports the Pax8 API requests per view.
func BenchmarkMappingPage(b *testing.B) {
	for _, bc := range []struct {
		name string
		ttl  int
	}{{"cache=off", -1}, {"cache=on", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			v, page := cachedEnv(b, 1000, func(o *orgmap.Options) {
				if bc.ttl < 0 {
					o.CompanyCacheTTL = -1
				}
			})
			v.page(page)
			before := v.e.APICalls()
			n := 0
			for b.Loop() {
				if st, _ := v.page(page); st != http.StatusOK {
					b.Fatalf("GET page = %d", st)
				}
				n++
			}
			b.ReportMetric(float64(v.e.APICalls()-before)/float64(n), "pax8-requests/op")
		})
	}
}
