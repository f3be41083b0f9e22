package config

import (
	"strings"
	"testing"
)

// TestConfigErrorsNeverEchoURLSecrets (issue 7 §8): a URL the config
// refuses is quoted without its user information, query values or
// fragment, wherever it appears (public_url, return_to_allow, webhooks,
// integrations, custom providers), and a URL that does not parse is not
// quoted at all.
func TestConfigErrorsNeverEchoURLSecrets(t *testing.T) {
	const yaml = `
public_url: http://admin:pw-secret-1@grantd.example.com/?token=q-secret-2
return_to_allow: ["http://app.example.com/back?sig=q-secret-3", "https://u:pw-secret-4@*.example.com/"]
webhooks:
  - url: http://hooks.example.com/in?token=q-secret-5&x=q-secret-6#frag-secret-7
    secret_env: HOOK_SECRET
providers:
  - name: other
    extends: pax8
    issuer: https://login.pax8.com
    token_url: http://bob:pw-secret-8@token.example.com/?k=q-secret-9
integrations:
  - id: pax8
    provider: pax8
    client_id: abc
    client_secret_env: PAX8_CLIENT_SECRET
    redirect_uri: "http://evil.example.com/cb?code=q-secret-10"
  - id: pax8b
    provider: pax8
    client_id: abc
    client_secret_env: PAX8_CLIENT_SECRET
    redirect_uri: "https://[::1%zz-secret-11]/cb"
`
	e := baseEnv(t)
	e["HOOK_SECRET"] = strings.Repeat("h", 40)
	_, err := Load(writeConfig(t, yaml), env(e))
	if err == nil {
		t.Fatal("Load = nil error")
	}
	msg := err.Error()
	for _, secret := range []string{"pw-secret-1", "q-secret-2", "q-secret-3", "pw-secret-4", "q-secret-5", "q-secret-6",
		"frag-secret-7", "pw-secret-8", "q-secret-9", "q-secret-10", "secret-11"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the config errors quote %q:\n%s", secret, msg)
		}
	}
	// The errors still say which URL and what is wrong with it.
	for _, want := range []string{
		`public_url: "http://REDACTED@grantd.example.com/?token=REDACTED" must not contain user information`,
		`return_to_allow[0]: "http://app.example.com/back?sig=REDACTED" must use https`,
		`webhooks[0].url: "http://hooks.example.com/in?token=REDACTED&x=REDACTED" must not contain a fragment`,
		`token_url: "http://REDACTED@token.example.com/?k=REDACTED" must not contain user information`,
		`redirect_uri: "http://evil.example.com/cb?code=REDACTED" must use https`,
		"redirect_uri: is not a URL",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the config errors lack %q:\n%s", want, msg)
		}
	}
}
