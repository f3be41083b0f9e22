package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/demo"
	"github.com/grantd/grantd/internal/store"
)

// TestIntegrationsAndWebhooksCommands drives "grantd integrations
// update|delete" and "grantd webhooks deliveries|redeliver" against a
// running demo: secrets come from the environment, never the command
// line; the API's answers (credentials check, 404 for another tenant's
// delivery) reach the user.
func TestIntegrationsAndWebhooksCommands(t *testing.T) {
	d, err := demo.Start(t.Context(), demo.Options{Listen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0", Logs: t.Output()})
	if err != nil {
		t.Fatalf("demo.Start: %v", err)
	}
	defer d.Close()
	vars := map[string]string{"GRANTD_URL": d.PublicURL, "GRANTD_API_KEY": d.APIKey, "NEW_SECRET": "new-secret-canary"}
	c, err := grantd.NewClient(d.PublicURL, d.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.CreateIntegration(t.Context(), grantd.IntegrationRequest{Provider: "pax8", ClientID: "cli-client", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}

	code, stdout, errOut := runCmd(t, vars, "integrations", "update", in.ID, "--name", "Renamed", "--default", "--client-secret-env", "NEW_SECRET", "--json")
	var got struct {
		IsDefault          bool   `json:"is_default"`
		CredentialsChecked bool   `json:"credentials_checked"`
		CredentialsCheck   string `json:"credentials_check"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || !got.IsDefault || got.CredentialsChecked || got.CredentialsCheck == "" {
		t.Errorf("integrations update = %d %q %s; want default, unchecked with the reason", code, stdout, errOut)
	}
	if strings.Contains(stdout+errOut, "canary") {
		t.Errorf("output reveals the secret")
	}
	if code, _, errOut := runCmd(t, vars, "integrations", "update", in.ID, "--client-secret-env", "UNSET"); code != 1 || !strings.Contains(errOut, "UNSET is empty") {
		t.Errorf("update from an empty variable = %d %q, want exit 1 naming it", code, errOut)
	}
	if code, _, _ := runCmd(t, vars, "integrations", "update", in.ID); code != 2 {
		t.Errorf("update with nothing to change = %d, want 2", code)
	}
	if code, stdout, errOut := runCmd(t, vars, "integrations", "delete", in.ID); code != 0 || !strings.Contains(stdout, "deleted "+in.ID) {
		t.Errorf("integrations delete = %d %q %s", code, stdout, errOut)
	}
	if code, _, errOut := runCmd(t, vars, "integrations", "delete", in.ID); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("delete again = %d %q, want exit 1 not_found", code, errOut)
	}

	st := d.App.Store()
	now := time.Now().UTC()
	if _, err := st.EnqueueDeliveries(t.Context(), []store.Delivery{
		{ID: "dlv_mine", TenantID: d.TenantID, Endpoint: "e", EventID: "evt_1", EventType: "connected", Payload: []byte(`{}`), CreatedAt: now},
		{ID: "dlv_theirs", TenantID: "ten_other", Endpoint: "e", EventID: "evt_2", EventType: "connected", Payload: []byte(`{}`), CreatedAt: now},
	}); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut = runCmd(t, vars, "webhooks", "deliveries", "--json")
	var ds []grantd.WebhookDelivery
	if code != 0 || json.Unmarshal([]byte(stdout), &ds) != nil || len(ds) != 1 || ds[0].ID != "dlv_mine" {
		t.Errorf("webhooks deliveries = %d %q %s; want only the tenant's dlv_mine", code, stdout, errOut)
	}
	if code, stdout, _ := runCmd(t, vars, "webhooks", "deliveries", "--state", "failed"); code != 0 || !strings.Contains(stdout, "no webhook deliveries") {
		t.Errorf("webhooks deliveries --state failed = %d %q", code, stdout)
	}
	if code, stdout, errOut := runCmd(t, vars, "webhooks", "redeliver", "dlv_mine"); code != 0 || !strings.Contains(stdout, "dlv_mine is pending") {
		t.Errorf("webhooks redeliver = %d %q %s", code, stdout, errOut)
	}
	if code, _, errOut := runCmd(t, vars, "webhooks", "redeliver", "dlv_theirs"); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("redeliver another tenant's = %d %q, want exit 1 not_found", code, errOut)
	}
}
