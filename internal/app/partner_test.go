package app

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/vault"
)

// TestBuildSealsPartnerToken follows a Daxko partner token from a
// partner_token_file through config loading into the store: sealed under
// its own row and field (ENC-01, ENC-04, SEC-60), updated in place on the
// next start, and never written to the logs, even at debug level (SEC-61).
func TestBuildSealsPartnerToken(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "daxko-partner-token")
	const first, second = "eyJ.partner-token-canary-one", "eyJ.partner-token-canary-two"
	key, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GRANTD_ADMIN_KEY":  "admin-key-for-tests-0123456789abcdef",
		"GRANTD_VAULT_KEYS": key.Encode(),
		"GRANTD_DATABASE":   filepath.Join(dir, "grantd.db"),
		"DAXKO_PASSWORD":    "daxko-password-canary",
	}
	cfgPath := filepath.Join(dir, "grantd.yaml")
	yaml := fmt.Sprintf(`dev: true
public_url: http://127.0.0.1:8080
integrations:
  - id: daxko-main
    provider: daxko
    client_id: daxko_api_user
    client_secret_env: DAXKO_PASSWORD
    partner_token_file: %s
`, tokenFile)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	build := func(token string) *App {
		t.Helper()
		if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(cfgPath, func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("config.Load: %v", err)
		}
		a, err := Build(t.Context(), cfg, nil, logger)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		return a
	}

	a := build(first)
	in, err := a.Store().GetIntegration(t.Context(), "daxko-main")
	if err != nil {
		t.Fatalf("GetIntegration: %v", err)
	}
	if len(in.PartnerToken) == 0 || strings.Contains(string(in.PartnerToken), first) {
		t.Fatalf("partner token stored as %d bytes, in the clear: %t; want sealed", len(in.PartnerToken), strings.Contains(string(in.PartnerToken), first))
	}
	if pt, err := a.Vault().Open(in.PartnerToken, "integration:daxko-main:partner_token"); err != nil || string(pt) != first {
		t.Errorf("Open(partner token) = %q, %v; want the token from the file", pt, err)
	}
	for _, aad := range []string{"integration:daxko-main:client_secret", "integration:other:partner_token"} {
		if _, err := a.Vault().Open(in.PartnerToken, aad); err == nil {
			t.Errorf("partner token opens under AAD %q (ENC-04)", aad)
		}
	}
	if pt, err := a.Vault().Open(in.ClientSecret, "integration:daxko-main:client_secret"); err != nil || string(pt) != "daxko-password-canary" {
		t.Errorf("Open(client secret) = %q, %v", pt, err)
	}
	a.Close()

	a = build(second)
	defer a.Close()
	in, err = a.Store().GetIntegration(t.Context(), "daxko-main")
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := a.Vault().Open(in.PartnerToken, "integration:daxko-main:partner_token"); err != nil || string(pt) != second {
		t.Errorf("after a restart with a new token: Open(partner token) = %q, %v; want the new one", pt, err)
	}

	if !strings.Contains(logs.String(), "daxko-main") {
		t.Fatalf("no log mentions the integration; is debug logging captured? logs:\n%s", logs.String())
	}
	for _, canary := range []string{first, second, "daxko-password-canary"} {
		if strings.Contains(logs.String(), canary) {
			t.Errorf("logs contain the secret %q", canary)
		}
	}
}
