package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/vault"
)

// TestTenantKeysRotate: "tenants keys" creates a named key shown once,
// lists keys without their values, and revokes one; another tenant's key
// id and an unknown tenant are errors that change nothing.
func TestTenantKeysRotate(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "grantd.yaml")
	if err := os.WriteFile(cfgPath, []byte("database: "+filepath.Join(dir, "grantd.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, name := range []string{"Acme", "Beta"} {
		code, stdout, stderr := runCmd(t, nil, "tenants", "create", name, "--json", "--config", cfgPath)
		var out struct{ Tenant struct{ ID string } }
		if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil {
			t.Fatalf("tenants create %s = %d %q %s", name, code, stdout, stderr)
		}
		ids[name] = out.Tenant.ID
	}
	code, stdout, stderr := runCmd(t, nil, "tenants", "keys", "create", ids["Acme"], "--name", "ci", "--expires", "720h", "--config", cfgPath)
	if code != 0 || !regexp.MustCompile(`api key  gdk_\S+`).MatchString(stdout) || !strings.Contains(stderr, "cannot be shown again") {
		t.Fatalf("tenants keys create = %d %q %q", code, stdout, stderr)
	}
	list := func(tenantID string) []map[string]any {
		t.Helper()
		code, stdout, stderr := runCmd(t, nil, "tenants", "keys", "list", tenantID, "--json", "--config", cfgPath)
		var ks []map[string]any
		if code != 0 || json.Unmarshal([]byte(stdout), &ks) != nil {
			t.Fatalf("tenants keys list = %d %q %s", code, stdout, stderr)
		}
		if regexp.MustCompile(`gdk_[A-Za-z0-9_-]{43}`).MatchString(stdout) {
			t.Error("tenants keys list shows a key value")
		}
		return ks
	}
	ks := list(ids["Acme"])
	if len(ks) != 2 || ks[1]["name"] != "ci" || ks[1]["expires_at"] == nil {
		t.Fatalf("keys = %v, want the first and ci, expiring", ks)
	}
	first := ks[0]["id"].(string)
	if code, _, _ := runCmd(t, nil, "tenants", "keys", "revoke", ids["Beta"], first, "--config", cfgPath); code == 0 {
		t.Error("revoking Acme's key as Beta succeeded")
	}
	if code, _, _ := runCmd(t, nil, "tenants", "keys", "list", "ten_unknown", "--config", cfgPath); code == 0 {
		t.Error("listing the keys of an unknown tenant succeeded")
	}
	if len(list(ids["Acme"])) != 2 {
		t.Fatal("a refused revocation removed a key")
	}
	if code, stdout, stderr := runCmd(t, nil, "tenants", "keys", "revoke", ids["Acme"], first, "--config", cfgPath); code != 0 {
		t.Fatalf("tenants keys revoke = %d %q %s", code, stdout, stderr)
	}
	if ks := list(ids["Acme"]); len(ks) != 1 || ks[0]["name"] != "ci" {
		t.Errorf("keys after revoking the first = %v, want only ci", ks)
	}
}

// TestTenantDelete: "tenants delete" with a full config deletes the
// tenant and its keys; another tenant stays.
func TestTenantDelete(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "grantd.yaml")
	if err := os.WriteFile(cfgPath, []byte("database: "+filepath.Join(dir, "grantd.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte("dev: true\ndatabase: "+filepath.Join(dir, "grantd.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"GRANTD_VAULT_KEYS": k.Encode(), "GRANTD_ADMIN_KEY": "admin-key-for-the-test-0123456789"}
	var id string
	for _, name := range []string{"Acme", "Beta"} {
		code, stdout, stderr := runCmd(t, vars, "tenants", "create", name, "--json", "--config", cfgPath)
		var out struct{ Tenant struct{ ID string } }
		if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil {
			t.Fatalf("tenants create = %d %q %s", code, stdout, stderr)
		}
		if name == "Acme" {
			id = out.Tenant.ID
		}
	}
	code, stdout, stderr := runCmd(t, vars, "tenants", "delete", id, "--json", "--config", cfgPath)
	var got struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got.ID != id {
		t.Fatalf("tenants delete = %d %q %s", code, stdout, stderr)
	}
	code, stdout, _ = runCmd(t, nil, "tenants", "list", "--json", "--config", cfgPath)
	if code != 0 || strings.Contains(stdout, id) || !strings.Contains(stdout, "Beta") {
		t.Errorf("tenants list after delete = %q, want only Beta", stdout)
	}
	if code, _, _ := runCmd(t, vars, "tenants", "delete", id, "--config", cfgPath); code == 0 {
		t.Error("deleting the tenant again succeeded")
	}
}
