package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const tenancyYAML = `
public_url: https://grantd.example.com
integrations:
  - id: pax8
    provider: pax8
    client_id: abc
    client_secret_env: PAX8_CLIENT_SECRET`

// TestIntegrationTenants checks that an integration's tenants list keeps
// its three meanings (absent, empty, listed) and that bad entries are
// reported with their paths.
func TestIntegrationTenants(t *testing.T) {
	cfg, err := Load(writeConfig(t, tenancyYAML+`
  - id: partner-all
    provider: pax8-partner
    client_id: p
    client_secret_env: PAX8_CLIENT_SECRET
    tenants: ["*"]
  - id: partner-none
    provider: pax8-partner
    client_id: p
    client_secret_env: PAX8_CLIENT_SECRET
    tenants: []
  - id: partner-some
    provider: pax8-partner
    client_id: p
    client_secret_env: PAX8_CLIENT_SECRET
    tenants: [ten_a, ten_b]
`), env(baseEnv(t)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := map[string][]string{}
	listed := map[string]bool{}
	for _, in := range cfg.Integrations {
		got[in.ID], listed[in.ID] = in.Tenants, in.Tenants != nil
	}
	if diff := cmp.Diff(map[string]bool{"pax8": false, "partner-all": true, "partner-none": true, "partner-some": true}, listed); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ten_a", "ten_b"}, got["partner-some"]); diff != "" {
		t.Errorf("partner-some tenants (-want +got):\n%s", diff)
	}

	_, err = Load(writeConfig(t, tenancyYAML+`
  - id: partner
    provider: pax8-partner
    client_id: p
    client_secret_env: PAX8_CLIENT_SECRET
    tenants: ["*", ten_a, ten_a, ""]
quotas:
  connections: 0
  connect_links_per_hour: -2
`), env(baseEnv(t)))
	for _, want := range []string{
		`integrations[1].tenants[0]: "*" names every tenant and must be alone`,
		`integrations[1].tenants[2]: "ten_a" is listed twice`,
		`integrations[1].tenants[3]: "" is not a tenant id`,
		`quotas.connections: must be positive, or -1 for no limit`,
		`quotas.connect_links_per_hour: must be positive, or -1 for no limit`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error %v does not contain %q", err, want)
		}
	}
}
