package config

import (
	"strings"
	"testing"
)

// FuzzParse feeds the config loader any YAML: Parse, ApplyDefaults,
// ResolveSecrets and Validate never panic, and no error they return shows
// a secret's value (every environment variable holds a canary; files are
// not read). Parse and Validate are deterministic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodYAML))
	f.Add([]byte("listen: 127.0.0.1:8080\npublic_url: http://127.0.0.1:8080\n"))
	f.Add([]byte("integrations:\n  - id: x\n    provider: pax8\n    client_secret: inline\n"))
	f.Add([]byte("vault:\n  keys_env: K\n  primary: 1\nadmin_key_env: A\n"))
	f.Add([]byte("providers:\n  - name: custom\n    extends: pax8\n    token_url: http://127.0.0.1:1/t\n"))
	f.Add([]byte("webhooks:\n  - url: https://hooks.example/x?sig=1\n    secret_env: W\n"))
	f.Add([]byte("- not a map\n"))
	f.Add([]byte("a: &a [*a]\n"))
	const canary = "CANARY-fuzz-secret-value-0123456789"
	getenv := func(string) string { return canary }
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if strings.Contains(err.Error(), canary) {
				t.Fatalf("Parse error shows the canary: %v", err)
			}
			return
		}
		// Never read files named by the input (/dev/zero, /dev/stdin).
		c.AdminKeyFile, c.Vault.KeysFile = "", ""
		for i := range c.Integrations {
			c.Integrations[i].ClientSecretFile, c.Integrations[i].PartnerTokenFile = "", ""
		}
		for i := range c.Webhooks {
			c.Webhooks[i].SecretFile = ""
		}
		c.ApplyDefaults()
		c.ResolveSecrets(getenv)
		err1 := c.Validate()
		err2 := c.Validate()
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("Validate is not deterministic: %v then %v", err1, err2)
		}
		if err1 != nil && strings.Contains(err1.Error(), canary) {
			t.Fatalf("Validate error shows a secret: %v", err1)
		}
	})
}
