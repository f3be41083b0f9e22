package app

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// TestReadyz: /readyz is 200 while the database answers with every
// embedded migration applied, and 503 naming the cause when one is missing
// (a binary newer than its database); /healthz stays 200 throughout, since
// the process is up.
func TestReadyz(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusOK || !strings.Contains(body, `"ok"`) {
		t.Errorf("/readyz = %d %s, want 200 ok", code, body)
	}
	db, err := sql.Open("sqlite", te.database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "migrations not applied") {
		t.Errorf("/readyz with a migration missing = %d %s, want 503 migrations not applied", code, body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200 while the process is up", code)
	}
}

// TestStoreGauges: /metrics counts connections by provider and status and
// the webhook backlog by state, with no id in any label.
func TestStoreGauges(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer a.Close()
	ctx := t.Context()
	now := time.Now().UTC()
	for i, st := range []store.Status{store.StatusActive, store.StatusActive, store.StatusNeedsReauth} {
		c := store.Connection{ID: "conn_gauge" + string(rune('a'+i)), TenantID: "ten_x", IntegrationID: "pax8-main",
			Provider: "pax8", Status: st, CreatedAt: now, UpdatedAt: now, ConnectedAt: now}
		if err := a.Store().CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Store().EnqueueDeliveries(ctx, []store.Delivery{{ID: "dlv_gauge", Endpoint: "e", EventID: "evt", EventType: "connected", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{
		`grantd_connections{provider="pax8",status="active"} 2`,
		`grantd_connections{provider="pax8",status="needs_reauth"} 1`,
		`grantd_webhook_outbox{state="pending"} 1`,
		`grantd_webhook_outbox{state="failed"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(body, "grantd_connections"))
		}
	}
	for _, id := range []string{"conn_gauge", "dlv_gauge", "ten_x"} {
		if strings.Contains(body, id) {
			t.Errorf("/metrics names %s in a label", id)
		}
	}
}
