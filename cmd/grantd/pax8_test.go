package main

import (
	"encoding/json"
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// pax8Server is grantd's API with the actions over a sandbox, one tenant
// and its connection; it returns the environment the CLI reads.
func pax8Server(t *testing.T) map[string]string {
	t.Helper()
	e := testenv.New(t, testenv.Options{})
	tenantID, key := e.Tenant(t, "acme")
	conn := e.Connect(t, tenantID, testenv.Partner)
	_, otherKey := e.Tenant(t, "other")
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	r, err := action.New(action.Options{Tokens: e.Broker, Providers: e.Providers, Store: e.Store, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Options{Broker: e.Broker, Store: e.Store, Logger: log})
	action.Register(a, r)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return map[string]string{"GRANTD_URL": srv.URL, "GRANTD_API_KEY": key, "GRANTD_CONNECTION": conn.ID, "OTHER_API_KEY": otherKey}
}

// TestPax8Output compares the three output formats of one list (products:
// the catalogue has no dates, which the sandbox makes relative to today) with the
// golden files in testdata (go test -run Pax8Output -update rewrites them).
func TestPax8Output(t *testing.T) {
	vars := pax8Server(t)
	for _, format := range []string{"table", "json", "csv"} {
		code, stdout, stderr := runCmd(t, vars, "pax8", "products", "list", "--size", "3", "--output", format)
		if code != 0 {
			t.Fatalf("pax8 products list --output %s = exit %d: %s", format, code, stderr)
		}
		golden := filepath.Join("testdata", "pax8_products_list."+format)
		if *update {
			if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), stdout); diff != "" {
			t.Errorf("pax8 products list --output %s (-want +got):\n%s", format, diff)
		}
	}
}

// TestPax8AllAndErrors walks every page with --all (summary line on a
// non-terminal stderr), gets one item, and reports bad input and unknown
// connections as errors.
func TestPax8AllAndErrors(t *testing.T) {
	vars := pax8Server(t)
	code, stdout, stderr := runCmd(t, vars, "pax8", "companies", "list", "--all", "--size", "7", "--output", "csv")
	if code != 0 {
		t.Fatalf("--all = exit %d: %s", code, stderr)
	}
	rows := strings.Split(strings.TrimSpace(stdout), "\n")
	n := len(rows) - 1
	if n < 8 || !strings.Contains(stderr, "fetched "+itoa(n)+" companies in ") {
		t.Errorf("--all: %d rows, stderr %q; want more than one page and a summary line", n, stderr)
	}
	id := strings.Split(rows[1], ",")[0]
	code, stdout, stderr = runCmd(t, vars, "pax8", "companies", "get", id, "--output", "json")
	if code != 0 || !strings.Contains(stdout, `"id": "`+id+`"`) {
		t.Errorf("companies get %s = %d %q %s", id, code, stdout, stderr)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pax8", "companies", "list", "--size", "201"}, 1, "invalid_input"},
		{[]string{"pax8", "companies", "list", "--connection", "con_missing"}, 1, "not_found"},
		{[]string{"pax8", "companies", "get", "00000000-0000-0000-0000-000000000000"}, 1, "upstream_not_found"},
		{[]string{"pax8", "companies", "explode"}, 2, "unknown command"},
		{[]string{"pax8", "companies", "get"}, 2, "takes 1 argument"},
		{[]string{"pax8", "companies", "list", "--output", "xml"}, 2, "--output"},
	} {
		code, _, stderr := runCmd(t, vars, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v = exit %d %q, want %d with %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestPax8DefaultConnection: without --connection, the command uses the
// tenant's only active Pax8 connection, and says how to choose when there
// is none.
func TestPax8DefaultConnection(t *testing.T) {
	vars := pax8Server(t)
	delete(vars, "GRANTD_CONNECTION")
	code, stdout, stderr := runCmd(t, vars, "pax8", "companies", "list", "--size", "2", "--output", "csv")
	if code != 0 || len(strings.Split(strings.TrimSpace(stdout), "\n")) != 3 {
		t.Fatalf("companies list without --connection = exit %d %q %s; want two companies", code, stdout, stderr)
	}
	vars["GRANTD_API_KEY"] = vars["OTHER_API_KEY"]
	code, _, stderr = runCmd(t, vars, "pax8", "companies", "list")
	if code != 2 || !strings.Contains(stderr, "no active Pax8 connection") {
		t.Errorf("companies list for a tenant with no connection = exit %d %q; want 2, no active Pax8 connection", code, stderr)
	}
}

func TestProgressBar(t *testing.T) {
	got := progressBar(3, 10, 600, 2000, "companies")
	want := "[#########.....................] 3/10 pages, 600/2000 companies"
	if got != want {
		t.Errorf("progressBar = %q, want %q", got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestPax8IdempotencyKey: a write verb with --idempotency-key runs once; the
// repeat prints the first answer and says it was replayed; a read verb
// refuses the flag.
func TestPax8IdempotencyKey(t *testing.T) {
	vars := pax8Server(t)
	body := `{"company":{"name":"Keyed Co","phone":"+1 555 0100","website":"https://test.example","address":{"street":"1 Main St","city":"Denver","postalCode":"80202","country":"US","stateOrProvince":"CO"},"billOnBehalfOfEnabled":false,"selfServiceAllowed":false,"orderApprovalRequired":false}}`
	var ids []string
	for i, wantReplay := range []bool{false, true} {
		code, stdout, stderr := runCmd(t, vars, "pax8", "companies", "create", "--input", body, "--idempotency-key", "cli-1", "--output", "json")
		var got struct{ ID string }
		if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got.ID == "" {
			t.Fatalf("call %d: companies create = exit %d %q %s", i, code, stdout, stderr)
		}
		if strings.Contains(stderr, "replayed") != wantReplay {
			t.Errorf("call %d: stderr %q, want replayed %v", i, stderr, wantReplay)
		}
		ids = append(ids, got.ID)
	}
	if ids[0] != ids[1] {
		t.Errorf("the repeat created company %s, want the first answer %s", ids[1], ids[0])
	}
	other := strings.Replace(body, "Keyed Co", "Other Co", 1)
	if code, _, stderr := runCmd(t, vars, "pax8", "companies", "create", "--input", other, "--idempotency-key", "cli-1"); code != 1 || !strings.Contains(stderr, "idempotency_key_reused") {
		t.Errorf("the key with another input = exit %d %q, want 1 with idempotency_key_reused", code, stderr)
	}
	if code, _, stderr := runCmd(t, vars, "pax8", "companies", "list", "--idempotency-key", "k"); code != 2 || !strings.Contains(stderr, "write verbs") {
		t.Errorf("--idempotency-key on a list = exit %d %q, want 2 naming the write verbs", code, stderr)
	}
}
