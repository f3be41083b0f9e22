package reconcile_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/reconcile"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/upstream"
	"github.com/grantd/grantd/pax8"
)

// apiEnv is the real back end (sandbox with its discrepancies seeded,
// SQLite, broker) with the reconciliation routes on the JSON API over
// loopback, one tenant and its connection.
type apiEnv struct {
	t      *testing.T
	e      *testenv.Env
	srv    *httptest.Server
	api    http.Handler
	tenant string
	key    string
	conn   store.Connection
	period reconcile.Period
	csv    string // what the tenant bills: every item of the period, at Pax8's price
	keys   int    // distinct product keys in csv
}

func newAPIEnv(t *testing.T, seeded bool) *apiEnv {
	t.Helper()
	e := testenv.New(t, testenv.Options{Sandbox: sandbox.Options{APIDiscrepancies: seeded}})
	svc, err := reconcile.New(reconcile.Options{Broker: e.Broker, Store: e.Store,
		Transport: &upstream.Transport{Tokens: e.Broker, Providers: e.Providers}, Logger: e.Logger})
	if err != nil {
		t.Fatal(err)
	}
	apiSrv := api.New(api.Options{Broker: e.Broker, Store: e.Store, Logger: e.Logger, KeyCacheTTL: -1})
	svc.Routes(apiSrv)
	ts := httptest.NewServer(apiSrv)
	t.Cleanup(ts.Close)
	v := &apiEnv{t: t, e: e, srv: ts, api: apiSrv}
	v.tenant, v.key = e.Tenant(t, "Acme MSP")
	v.conn = e.Connect(t, v.tenant, testenv.Partner)

	// The tenant's organisations, one per Pax8 company, mapped.
	ctx := upstream.WithConnection(t.Context(), v.tenant, v.conn.ID)
	c := pax8.NewClient(&http.Client{Transport: &upstream.Transport{Tokens: e.Broker, Providers: e.Providers}},
		pax8.WithBaseURL(e.Provider.API.BaseURL))
	var orgs []store.Organization
	for co, err := range c.Companies.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, store.Organization{ID: "org-" + co.ID, Name: co.Name})
		if err := e.Store.PutOrgMapping(ctx, store.OrgMapping{TenantID: v.tenant, ConnectionID: v.conn.ID,
			ExternalID: co.ID, ExternalName: co.Name, OrgID: "org-" + co.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Store.PutOrganizations(ctx, v.tenant, orgs); err != nil {
		t.Fatal(err)
	}
	v.period = latestPeriod(t, ctx, c)
	in := tenantBook(t, ctx, c, v.period)
	sku := map[string]string{}
	for _, it := range periodItems(t, ctx, c, v.period) {
		sku[it.ProductID] = it.SKU
	}
	var b strings.Builder
	b.WriteString("org,product,quantity,unit_price\n")
	seen := map[string]bool{}
	for _, l := range in.Billing {
		key := sku[in.Products[l.Product]]
		fmt.Fprintf(&b, "%s,%s,%s,%s\n", l.OrgID, key, l.Quantity, l.UnitPrice)
		if !seen[key] {
			seen[key] = true
			v.keys++
		}
	}
	v.csv = b.String()
	return v
}

// do sends a request as the tenant and returns the status and body.
func (v *apiEnv) do(method, path, contentType, body string) (int, []byte) {
	v.t.Helper()
	req, err := http.NewRequestWithContext(v.t.Context(), method, v.srv.URL+path, strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+v.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := v.srv.Client().Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct{ Field, Reason, Message string }
	} `json:"error"`
}

// TestReconcileOverAPI: a CSV upload, accepted product suggestions and a
// reconciliation over the API find the seeded discrepancies and nothing
// else; a repeat within the cache period makes no Pax8 call.
func TestReconcileOverAPI(t *testing.T) {
	v := newAPIEnv(t, true)
	p := v.period.String()
	if st, b := v.do("POST", "/v1/billing/"+p, "text/csv", v.csv); st != http.StatusOK {
		t.Fatalf("POST billing = %d %s", st, b)
	}
	st, b := v.do("POST", "/v1/connections/"+v.conn.ID+"/product-mappings/accept-suggestions", "application/json", `{"period":"`+p+`"}`)
	var accepted struct{ Mappings []reconcile.ProductMapping }
	if json.Unmarshal(b, &accepted); st != http.StatusOK || len(accepted.Mappings) != v.keys {
		t.Fatalf("accept suggestions = %d, %d mappings, want %d: %s", st, len(accepted.Mappings), v.keys, b)
	}
	st, b = v.do("GET", "/v1/connections/"+v.conn.ID+"/reconciliation?period="+p, "", "")
	if st != http.StatusOK {
		t.Fatalf("GET reconciliation = %d %s", st, b)
	}
	var rep reconcile.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var got []reconcile.Category
	for _, l := range rep.Flagged() {
		got = append(got, l.Category)
		if l.AtStake.Amount.Sign() <= 0 || l.AtStake.Currency != "USD" {
			t.Errorf("line %+v: at stake %v, want a positive USD amount", l, l.AtStake)
		}
	}
	slices.Sort(got)
	want := []reconcile.Category{reconcile.BelowCost, reconcile.CancelledButCharged, reconcile.QuantityMismatch, reconcile.QuantityMismatch, reconcile.UnmappedCompany}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("flagged categories (-want +got):\n%s", diff)
	}

	calls := v.e.APICalls()
	if st, _ := v.do("GET", "/v1/connections/"+v.conn.ID+"/reconciliation?period="+p, "", ""); st != http.StatusOK {
		t.Errorf("second GET = %d", st)
	}
	st, page := v.do("GET", "/v1/connections/"+v.conn.ID+"/reconciliation/report?period="+p+"&sort=company&dir=asc", "", "")
	if st != http.StatusOK || !strings.Contains(string(page), `id="chart"`) {
		t.Errorf("GET report = %d, want the page", st)
	}
	if n := v.e.APICalls() - calls; n != 0 {
		t.Errorf("repeat reports made %d Pax8 calls, want 0", n)
	}
	if st, _ := v.do("GET", "/v1/connections/"+v.conn.ID+"/reconciliation/report?period="+p+"&sort=nope", "", ""); st != http.StatusBadRequest {
		t.Errorf("report sorted by an unknown column = %d, want 400", st)
	}
	if st, _ := v.do("GET", "/v1/connections/"+v.conn.ID+"/reconciliation?period=2026-13", "", ""); st != http.StatusBadRequest {
		t.Errorf("GET reconciliation of month 13 = %d, want 400", st)
	}
}

// TestBillingUploadRefused: each problem of a bad upload is listed by
// line, and nothing is stored.
func TestBillingUploadRefused(t *testing.T) {
	v := newAPIEnv(t, false)
	p := v.period.String()
	first := strings.SplitN(v.csv, "\n", 3)[1] // a valid line
	org := strings.Split(first, ",")[0]
	for _, tc := range []struct {
		name, ct, body string
		want           []string // field: reason
	}{
		{"unknown column", "text/csv", "org,product,quantity,unit_price,discount\n" + first + ",5\n", []string{"line 1: discount: unknown_column"}},
		{"values", "text/csv", "org,product,quantity,unit_price\n" + org + ",a,many,1\n" + org + ",b,1,-2\n" + org + ",a,1,1\n" + "org-nobody,c,1,1\n",
			[]string{"line 2: quantity: invalid_number", "line 3: unit_price: negative", "line 4: duplicate_line"}},
		{"unknown organisation", "application/x-ndjson", `{"org":"org-nobody","product":"x","quantity":1,"unit_price":"2.50"}` + "\n" + `{"org":"` + org + `","product":"x","quantity":1,"unit_price":2}`,
			[]string{"line 1: org: unknown_organization"}},
		{"negative price", "text/csv", "org,product,quantity,unit_price\n" + org + ",b,1,-2\n", []string{"line 2: unit_price: negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := v.do("PUT", "/v1/billing/"+p, tc.ct, tc.body)
			var e errorBody
			json.Unmarshal(b, &e)
			if st != http.StatusBadRequest || e.Error.Code != "invalid_request" {
				t.Fatalf("PUT billing = %d %s, want 400 invalid_request", st, b)
			}
			var got []string
			for _, d := range e.Error.Details {
				got = append(got, d.Field+": "+d.Reason)
				if !strings.HasPrefix(d.Message, "line ") {
					t.Errorf("detail message %q does not name its line", d.Message)
				}
			}
			if diff := gocmp.Diff(tc.want, got); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
			st, b = v.do("GET", "/v1/billing/"+p, "", "")
			if st != http.StatusOK || !strings.Contains(string(b), `"lines":[]`) {
				t.Errorf("GET billing after a refused upload = %d %s, want no lines", st, b)
			}
		})
	}
	if st, _ := v.do("PUT", "/v1/billing/"+p, "text/plain", "x"); st != http.StatusUnsupportedMediaType {
		t.Errorf("PUT billing as text/plain = %d, want 415", st)
	}
}

// TestReconcileNeedsReauth: a connection that must be authorised again
// answers 409 with the next step, and Pax8 is not called.
func TestReconcileNeedsReauth(t *testing.T) {
	v := newAPIEnv(t, false)
	if _, err := v.e.Store.UpdateConnection(t.Context(), v.conn.ID, func(c store.Connection) (store.Connection, error) {
		c.Status = store.StatusNeedsReauth
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	calls := v.e.APICalls()
	st, b := v.do("GET", "/v1/connections/"+v.conn.ID+"/reconciliation?period="+v.period.String(), "", "")
	var e errorBody
	json.Unmarshal(b, &e)
	if st != http.StatusConflict || e.Error.Code != "needs_reauth" || !strings.Contains(e.Error.Message, "POST /v1/connect-sessions") {
		t.Errorf("GET reconciliation = %d %s, want 409 needs_reauth with the next step", st, b)
	}
	if n := v.e.APICalls() - calls; n != 0 {
		t.Errorf("%d Pax8 calls, want none", n)
	}
}

// TestReconcileOtherTenant (SEC-43): another tenant's connection is not
// found, even with its walk in the cache, and billing is per tenant.
func TestReconcileOtherTenant(t *testing.T) {
	v := newAPIEnv(t, false)
	p := v.period.String()
	if st, b := v.do("POST", "/v1/billing/"+p, "text/csv", v.csv); st != http.StatusOK {
		t.Fatalf("POST billing = %d %s", st, b)
	}
	if st, b := v.do("GET", "/v1/connections/"+v.conn.ID+"/reconciliation?period="+p, "", ""); st != http.StatusOK {
		t.Fatalf("GET reconciliation = %d %s", st, b)
	}
	_, otherKey := v.e.Tenant(t, "Other MSP")
	own := v.key
	v.key = otherKey
	for _, path := range []string{
		"/v1/connections/" + v.conn.ID + "/reconciliation?period=" + p,
		"/v1/connections/" + v.conn.ID + "/reconciliation/report?period=" + p,
		"/v1/connections/" + v.conn.ID + "/product-mappings?period=" + p,
	} {
		if st, b := v.do("GET", path, "", ""); st != http.StatusNotFound {
			t.Errorf("GET %s as another tenant = %d %s, want 404", path, st, b)
		}
	}
	if st, b := v.do("GET", "/v1/billing/"+p, "", ""); st != http.StatusOK || !strings.Contains(string(b), `"lines":[]`) {
		t.Errorf("GET billing as another tenant = %d %s, want no lines", st, b)
	}
	v.key = own
	if st, b := v.do("GET", "/v1/billing/"+p, "", ""); st != http.StatusOK || strings.Contains(string(b), `"lines":[]`) {
		t.Errorf("GET billing as the owner = %d %s, want its lines", st, b)
	}
}

// TestReconcileSingleFlight: concurrent reports of one connection and
// period share one walk of Pax8: they make as many Pax8 calls as one
// report of another connection to the same partner.
func TestReconcileSingleFlight(t *testing.T) {
	v := newAPIEnv(t, false)
	p := v.period.String()
	calls := v.e.APICalls()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if st, b := v.do("GET", "/v1/connections/"+v.conn.ID+"/reconciliation?period="+p, "", ""); st != http.StatusOK {
				t.Errorf("GET reconciliation = %d %s", st, b)
			}
		})
	}
	wg.Wait()
	concurrent := v.e.APICalls() - calls

	otherTenant, otherKey := v.e.Tenant(t, "Other MSP")
	other := v.e.Connect(t, otherTenant, testenv.Partner)
	v.key = otherKey
	calls = v.e.APICalls()
	if st, b := v.do("GET", "/v1/connections/"+other.ID+"/reconciliation?period="+p, "", ""); st != http.StatusOK {
		t.Fatalf("GET reconciliation = %d %s", st, b)
	}
	if one := v.e.APICalls() - calls; concurrent != one || one == 0 {
		t.Errorf("5 concurrent reports made %d Pax8 calls, one report %d; want the same, above 0", concurrent, one)
	}
}

// TestProductMappingRoutes: suggestions for the billed keys, a mapping
// set and removed by hand, and a product Pax8 does not show refused.
func TestProductMappingRoutes(t *testing.T) {
	v := newAPIEnv(t, false)
	p := v.period.String()
	if st, b := v.do("PUT", "/v1/billing/"+p, "text/csv", v.csv); st != http.StatusOK {
		t.Fatalf("PUT billing = %d %s", st, b)
	}
	base := "/v1/connections/" + v.conn.ID + "/product-mappings"
	st, b := v.do("GET", base+"?period="+p, "", "")
	var res reconcile.ProductMappings
	if err := json.Unmarshal(b, &res); st != http.StatusOK || err != nil {
		t.Fatalf("GET product-mappings = %d %s", st, b)
	}
	if len(res.Mappings) != 0 || len(res.UnmappedKeys) != v.keys || len(res.Suggestions) != v.keys {
		t.Fatalf("before mapping: %d mappings, %d unmapped keys, %d suggestions; want 0, %d, %d", len(res.Mappings), len(res.UnmappedKeys), len(res.Suggestions), v.keys, v.keys)
	}
	sg := res.Suggestions[0]
	if sg.Score != 1 || sg.SKU != sg.ProductKey {
		t.Errorf("suggestion %+v: want the product whose SKU is the key, score 1", sg)
	}
	if st, b := v.do("PUT", base+"/"+sg.ProductKey, "application/json", `{"product_id":"no-such-product","period":"`+p+`"}`); st != http.StatusBadRequest {
		t.Errorf("PUT an unknown product = %d %s, want 400", st, b)
	}
	if st, b := v.do("PUT", base+"/"+sg.ProductKey, "application/json", `{"product_id":"`+sg.ProductID+`","period":"`+p+`"}`); st != http.StatusOK {
		t.Fatalf("PUT product mapping = %d %s", st, b)
	}
	_, b = v.do("GET", base+"?period="+p, "", "")
	json.Unmarshal(b, &res)
	if len(res.Mappings) != 1 || res.Mappings[0].ProductID != sg.ProductID || len(res.UnmappedKeys) != v.keys-1 {
		t.Errorf("after PUT: %+v mappings, %d unmapped keys; want the one mapping and %d", res.Mappings, len(res.UnmappedKeys), v.keys-1)
	}
	if st, _ := v.do("DELETE", base+"/"+sg.ProductKey, "", ""); st != http.StatusNoContent {
		t.Errorf("DELETE = %d, want 204", st)
	}
	if st, _ := v.do("DELETE", base+"/"+sg.ProductKey, "", ""); st != http.StatusNotFound {
		t.Errorf("DELETE again = %d, want 404", st)
	}
}
