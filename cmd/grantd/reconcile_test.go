package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/reconcile"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/upstream"
	"github.com/grantd/grantd/pax8"
)

// TestPax8Reconcile uploads a billing file with the CLI (a refused one
// first, its problems listed by line), reconciles, and prints the three
// output formats, with the walk reported on stderr.
func TestPax8Reconcile(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	tenantID, key := e.Tenant(t, "acme")
	conn := e.Connect(t, tenantID, testenv.Partner)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	svc, err := reconcile.New(reconcile.Options{Broker: e.Broker, Store: e.Store,
		Transport: &upstream.Transport{Tokens: e.Broker, Providers: e.Providers}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Options{Broker: e.Broker, Store: e.Store, Logger: log})
	svc.Routes(a)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	vars := map[string]string{"GRANTD_URL": srv.URL, "GRANTD_API_KEY": key, "GRANTD_CONNECTION": conn.ID}

	// One organisation, mapped to the partner's first company.
	ctx := upstream.WithConnection(t.Context(), tenantID, conn.ID)
	c := pax8.NewClient(&http.Client{Transport: &upstream.Transport{Tokens: e.Broker, Providers: e.Providers}}, pax8.WithBaseURL(e.Provider.API.BaseURL))
	var first pax8.Company
	for co, err := range c.Companies.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		first = co
		break
	}
	if err := e.Store.PutOrganizations(ctx, tenantID, []store.Organization{{ID: "org-1", Name: first.Name}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.PutOrgMapping(ctx, store.OrgMapping{TenantID: tenantID, ConnectionID: conn.ID, ExternalID: first.ID, ExternalName: first.Name, OrgID: "org-1"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("org,product,quantity,unit_price\norg-1,widget,many,1\norg-1,gadget,1,-1\n"), 0o644)
	code, _, stderr := runCmd(t, vars, "pax8", "reconcile", "--period", "2026-11", "--billing", bad)
	if code != 1 || !strings.Contains(stderr, "line 2: quantity \"many\" is not a number") || !strings.Contains(stderr, "line 3: unit_price -1 is negative") {
		t.Errorf("refused upload = exit %d, stderr %q; want 1 and both problems by line", code, stderr)
	}
	good := filepath.Join(dir, "november.csv")
	os.WriteFile(good, []byte("org,product,quantity,unit_price\norg-1,widget,3,19.99\n"), 0o644)
	code, stdout, stderr := runCmd(t, vars, "pax8", "reconcile", "--period", "2026-11", "--billing", good, "--flagged")
	if code != 0 {
		t.Fatalf("pax8 reconcile = exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "uploaded 1 billing lines") || !strings.Contains(stderr, "walked 25 companies") || !strings.Contains(stderr, "walking Pax8: 25 companies") {
		t.Errorf("stderr = %q, want the upload and the walk reported", stderr)
	}
	if !strings.Contains(stdout, "unmapped_product") || !strings.Contains(stdout, "59.97") {
		t.Errorf("table = %q, want the unmapped widget line at 59.97", stdout)
	}
	code, stdout, _ = runCmd(t, vars, "pax8", "reconcile", "--period", "2026-11", "--output", "csv")
	if code != 0 || !strings.HasPrefix(stdout, "category,company_id,") || !strings.Contains(stdout, "unmapped_product,") {
		t.Errorf("--output csv = exit %d %q", code, stdout)
	}
	code, stdout, _ = runCmd(t, vars, "pax8", "reconcile", "--period", "2026-11", "--output", "json")
	var rep reconcile.Report
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil || rep.Period.String() != "2026-11" {
		t.Errorf("--output json = exit %d, %v: %.200s", code, err, stdout)
	}
	if code, _, _ := runCmd(t, vars, "pax8", "reconcile", "--period", "November"); code != 2 {
		t.Errorf("--period November = exit %d, want 2", code)
	}
}
