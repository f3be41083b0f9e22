package console_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
)

var screenshots = flag.String("screenshots", "", "write each page's screenshot (390 px and 1200 px) into this directory")

// TestChromiumEditIntegration signs in as tenant A, adds an integration,
// edits its name and scopes on its page, and checks both in the database.
func TestChromiumEditIntegration(t *testing.T) {
	ctx := browse(t)
	v := newEnv(t)
	v.browserSignIn(ctx, v.keyA)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(v.srv.URL+"/console/integrations"),
		chromedp.WaitVisible(chromedp.ID("create")),
		chromedp.SetValue(chromedp.ID("c-name"), "Own Pax8"),
		chromedp.SetValue(chromedp.ID("c-client-id"), "own-client"),
		chromedp.SetValue(chromedp.ID("c-secret"), "own-secret"),
		chromedp.Click(chromedp.ID("c-submit")),
		chromedp.WaitVisible(chromedp.ID("edit")),
		chromedp.SetValue(chromedp.ID("e-name"), "Renamed <b>Pax8</b>"),
		chromedp.SetValue(chromedp.ID("e-scopes"), "openid offline_access"),
		chromedp.Click(chromedp.ID("e-submit")),
		chromedp.WaitVisible(chromedp.ID("integrations")),
	); err != nil {
		t.Fatalf("create and edit integration: %v", err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("integrations")))
	if err != nil || !strings.Contains(list, "Renamed <b>Pax8</b>") {
		t.Errorf("integrations table = %q, %v; want the new name, escaped as text", list, err)
	}
	ins, err := v.st.ListIntegrations(t.Context(), v.tenA)
	if err != nil {
		t.Fatal(err)
	}
	var got *store.Integration
	for i := range ins {
		if ins[i].TenantID == v.tenA {
			got = &ins[i]
		}
	}
	if got == nil {
		t.Fatalf("no integration of tenant A in the database: %+v", ins)
	}
	if got.Name != "Renamed <b>Pax8</b>" || strings.Join(got.Scopes, " ") != "openid offline_access" || got.ClientID != "own-client" {
		t.Errorf("stored integration = name %q scopes %q client %q", got.Name, got.Scopes, got.ClientID)
	}
	secret, err := v.e.Vault.Open(got.ClientSecret, vaultAAD(got.ID))
	if err != nil || string(secret) != "own-secret" {
		t.Errorf("the edit left the sealed secret as %q, %v; want own-secret kept", secret, err)
	}
}

// TestChromiumFilterConnections signs in as the operator, filters the
// connections by tenant and by email search, and follows the keyset
// pagination.
func TestChromiumFilterConnections(t *testing.T) {
	ctx := browse(t)
	v := newEnv(t)
	// A third connection, so the unfiltered list (page size 2) has a
	// second page.
	tenC, _ := v.e.Tenant(t, "Tenant C")
	extra := v.e.Connect(t, tenC, testenv.Partner)
	v.browserSignIn(ctx, adminKey)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(v.srv.URL+"/console/connections"),
		chromedp.WaitVisible(chromedp.ID("next")),
		chromedp.Click(chromedp.ID("next")),
		chromedp.WaitNotPresent(chromedp.ID("next")),
	); err != nil {
		t.Fatalf("page through connections: %v", err)
	}
	page2, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("connections")))
	ids := []string{v.connA.ID, v.connB.ID, extra.ID}
	seen := 0
	for _, id := range ids {
		if strings.Contains(page2, id) {
			seen++
		}
	}
	if seen != 1 {
		t.Errorf("the second page lists %d of the three connections, want 1:\n%s", seen, page2)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(v.srv.URL+"/console/connections"),
		chromedp.WaitVisible(chromedp.ID("filters")),
		chromedp.SetValue(chromedp.ID("f-tenant"), v.tenB),
		chromedp.SetValue(chromedp.ID("f-status"), "active"),
		chromedp.Click(chromedp.ID("apply")),
	); err != nil {
		t.Fatalf("filter by tenant: %v", err)
	}
	// The unfiltered page already shows B's row: wait for the filtered
	// page itself before reading it.
	waitLoaded(t, ctx, "tenant="+v.tenB)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#connections tr[data-id="`+v.connB.ID+`"]`))); err != nil {
		t.Fatalf("filter by tenant: %v", err)
	}
	table, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("connections")))
	if strings.Contains(table, v.connA.ID) || strings.Contains(table, extra.ID) {
		t.Errorf("filtered by tenant B, the table lists other tenants' connections:\n%s", table)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(v.srv.URL+"/console/connections?q="+strings.ToUpper(v.connB.Email[:4])),
		chromedp.WaitVisible(chromedp.CSS(`#connections tr[data-id="`+v.connB.ID+`"]`)),
	); err != nil {
		t.Fatalf("search by email: %v", err)
	}
	table, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("connections")))
	if strings.Contains(table, v.connA.ID) || strings.Contains(table, extra.ID) {
		t.Errorf("searching %q lists another account's connection:\n%s", v.connB.Email[:4], table)
	}
}

// waitLoaded waits until the page's query holds want and it has loaded.
func waitLoaded(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search + "|" + document.readyState`))
		if err == nil && strings.Contains(state, want) && strings.HasSuffix(state, "|complete") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the page never loaded with %q in its query", want)
}

// TestChromiumForceRefreshAndReauthLink forces a refresh of tenant A's
// connection from its page and creates a ReAuthorize link, checking both
// in the database.
func TestChromiumForceRefreshAndReauthLink(t *testing.T) {
	ctx := browse(t)
	v := newEnv(t)
	v.browserSignIn(ctx, v.keyA)
	page := v.srv.URL + "/console/connections/" + v.connA.ID
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("timeline")),
		chromedp.Click(chromedp.ID("force-refresh")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	); err != nil {
		t.Fatalf("force refresh: %v", err)
	}
	after, err := v.st.GetConnection(t.Context(), v.connA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version <= v.connA.Version || !after.LastRefreshAt.After(v.connA.ConnectedAt.Add(-time.Second)) || after.LastRefreshAt.IsZero() {
		t.Errorf("after Force refresh: version %d (was %d), last refresh %v; want a new grant", after.Version, v.connA.Version, after.LastRefreshAt)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#timeline circle.refresh").length`)); err != nil || n != 1 {
		t.Errorf("timeline refresh marks = %d, %v; want 1", n, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("reauth")), chromedp.WaitVisible(chromedp.ID("link-url"))); err != nil {
		t.Fatalf("create reauth link: %v", err)
	}
	link, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("link-url")))
	if err != nil || !strings.Contains(link, "/connect/") {
		t.Fatalf("link = %q, %v", link, err)
	}
	lp, err := v.e.Broker.Link(t.Context(), link[strings.LastIndex(link, "/")+1:])
	if err != nil {
		t.Fatalf("the console's link does not resolve: %v", err)
	}
	if lp.Link.ConnectionID != v.connA.ID || lp.Link.TenantID != v.tenA {
		t.Errorf("stored link = connection %q tenant %q, want %q %q", lp.Link.ConnectionID, lp.Link.TenantID, v.connA.ID, v.tenA)
	}
}

// TestChromiumRedeliverWebhook signs in as the operator and redelivers a
// failed webhook delivery.
func TestChromiumRedeliverWebhook(t *testing.T) {
	ctx := browse(t)
	v := newEnv(t)
	id := v.failedDelivery(t)
	v.browserSignIn(ctx, adminKey)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(v.srv.URL+"/console/webhooks?state=failed"),
		chromedp.WaitVisible(chromedp.CSS(`#deliveries tr[data-id="`+id+`"] button.redeliver`)),
		chromedp.Click(chromedp.CSS(`#deliveries tr[data-id="`+id+`"] button.redeliver`)),
		chromedp.WaitVisible(chromedp.ID("notice")),
	); err != nil {
		t.Fatalf("redeliver: %v", err)
	}
	d, err := v.st.GetDelivery(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != store.DeliveryPending || !d.FinishedAt.IsZero() || d.Attempts != 0 {
		t.Errorf("after Redeliver: state %s, finished %v, attempts %d; want pending, unfinished, attempts reset", d.State, d.FinishedAt, d.Attempts)
	}
}

// failedDelivery stores a delivery that failed once and returns its id.
func (v *env) failedDelivery(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	id := "dlv_console_test"
	if _, err := v.st.EnqueueDeliveries(ctx, []store.Delivery{{ID: id, Endpoint: "ep1", EventID: "evt1", EventType: "connection.needs_reauth", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.st.ClaimDeliveries(ctx, "test", []string{"ep1"}, now.Add(time.Second), now.Add(time.Minute), 1); err != nil {
		t.Fatal(err)
	}
	if err := v.st.FailDelivery(ctx, id, "test", now, "receiver answered 410"); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestChromiumNarrowScreen opens every page at 390 px and checks that
// nothing overflows horizontally; with -screenshots it saves each page.
func TestChromiumNarrowScreen(t *testing.T) {
	ctx := browse(t)
	v := newEnv(t)
	v.failedDelivery(t)
	if _, err := v.e.Broker.Refresh(t.Context(), v.connA.ID, ""); err != nil {
		t.Fatal(err)
	}
	v.browserSignIn(ctx, adminKey)
	pages := map[string]string{
		"overview":     "/console/",
		"tenants":      "/console/tenants",
		"integrations": "/console/integrations",
		"integration":  "/console/integrations/" + v.e.Integration.ID,
		"connections":  "/console/connections",
		"connection":   "/console/connections/" + v.connA.ID,
		"webhooks":     "/console/webhooks",
	}
	for _, width := range []int64{390, 1200} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		for name, path := range pages {
			if err := chromedp.Do(ctx, chromedp.Navigate(v.srv.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
				t.Fatalf("open %s: %v", path, err)
			}
			sw, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if width == 390 && sw > 390 {
				t.Errorf("%s at 390 px: scrollWidth = %d, want <= 390", path, sw)
			}
			if *screenshots != "" {
				shoot(t, ctx, filepath.Join(*screenshots, name+"-"+map[int64]string{390: "narrow", 1200: "wide"}[width]+".png"))
			}
		}
	}
	if *screenshots != "" {
		chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900))
		chromedp.Do(ctx, chromedp.Navigate(v.srv.URL+"/console/signin"))
	}
}

func shoot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	// Quality 100 asks Chromium for PNG; below it, the bytes are JPEG.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
