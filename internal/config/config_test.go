package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/grantd/grantd/internal/vault"
)

const adminKey = "admin-key-0123456789abcdef"

// env returns a getenv over m.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grantd.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func baseEnv(t *testing.T) map[string]string {
	t.Helper()
	k, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GRANTD_ADMIN_KEY":   adminKey,
		"GRANTD_VAULT_KEYS":  k.Encode(),
		"PAX8_CLIENT_SECRET": "pax8-secret-value",
	}
}

const goodYAML = `
listen: 0.0.0.0:9090
public_url: https://grantd.example.com
database: postgres://grantd@db.example.com/grantd
log_level: debug
log_format: json
return_to_allow: [https://app.example.com/grantd/]
integrations:
  - id: pax8
    provider: pax8
    client_id: abc
    client_secret_env: PAX8_CLIENT_SECRET
refresh:
  interval: 30s
token_cache_ttl: 0s
`

func TestLoadGood(t *testing.T) {
	e := baseEnv(t)
	got, err := Load(writeConfig(t, goodYAML), env(e))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	want.Listen = "0.0.0.0:9090"
	want.PublicURL = "https://grantd.example.com"
	want.Database = "postgres://grantd@db.example.com/grantd"
	want.LogLevel = "debug"
	want.LogFormat = "json"
	want.ReturnToAllow = []string{"https://app.example.com/grantd/"}
	want.Refresh.Interval = Duration(30 * time.Second) // other refresh defaults kept
	want.TokenCacheTTL = 0                             // an explicit zero beats the default
	want.AdminKey = adminKey
	keys, _ := vault.ParseKeys(e["GRANTD_VAULT_KEYS"])
	want.Vault.Keys = keys
	want.Integrations = []Integration{{
		ID:              "pax8",
		Provider:        "pax8",
		Name:            "Pax8",
		ClientID:        "abc",
		ClientSecretEnv: "PAX8_CLIENT_SECRET",
		ClientSecret:    "pax8-secret-value",
		RedirectURI:     "https://grantd.example.com/oauth/callback/pax8",
		Scopes:          []string{"Manage:Pax8Data", "openid", "profile", "email", "offline_access"},
		Audience:        "https://api.pax8.com",
	}}
	opts := cmp.Options{cmpopts.IgnoreUnexported(Config{}), cmp.Comparer(func(a, b vault.Key) bool {
		return a.ID == b.ID && bytes.Equal(a.Secret, b.Secret)
	})}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	if got.SlogLevel() != slog.LevelDebug {
		t.Errorf("SlogLevel = %v, want debug", got.SlogLevel())
	}
}

func TestDefaults(t *testing.T) {
	e := baseEnv(t)
	e["GRANTD_DEV"] = "true" // the default public_url is http on loopback
	got, err := Load("", env(e))
	if err != nil {
		t.Fatalf("Load(\"\") = %v", err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"listen", got.Listen, "127.0.0.1:8080"},
		{"public_url", got.PublicURL, "http://127.0.0.1:8080"},
		{"database", got.Database, "grantd.db"},
		{"log_level", got.LogLevel, "info"},
		{"log_format", got.LogFormat, "text"},
		{"refresh.interval", got.Refresh.Interval.D().String(), "1m0s"},
		{"refresh.ahead", got.Refresh.Ahead.D().String(), "10m0s"},
		{"refresh.idle_margin", got.Refresh.IdleMargin.D().String(), "120h0m0s"},
		{"refresh.timeout", got.Refresh.Timeout.D().String(), "20s"},
		{"refresh.lease_ttl", got.Refresh.LeaseTTL.D().String(), "1m0s"},
		{"token_cache_ttl", got.TokenCacheTTL.D().String(), "1s"},
		{"connect.session_ttl", got.Connect.SessionTTL.D().String(), "10m0s"},
		{"connect.link_ttl", got.Connect.LinkTTL.D().String(), "1h0m0s"},
	} {
		if tc.got != tc.want {
			t.Errorf("default %s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if got.Vault.Primary != 0 || len(got.Vault.Keys) != 1 {
		t.Errorf("vault = primary %d, %d keys; want 0 and 1", got.Vault.Primary, len(got.Vault.Keys))
	}
}

func TestPrecedenceFlagsEnvFile(t *testing.T) {
	e := baseEnv(t)
	e["GRANTD_LISTEN"] = "127.0.0.1:7000"
	e["GRANTD_DATABASE"] = "/var/lib/grantd/env.db"
	flag := func(c *Config) { c.Database = "/flag.db" }
	got, err := Load(writeConfig(t, goodYAML), env(e), flag)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Listen != "127.0.0.1:7000" {
		t.Errorf("listen = %q, want the environment's 127.0.0.1:7000 over the file's", got.Listen)
	}
	if got.Database != "/flag.db" {
		t.Errorf("database = %q, want the flag's /flag.db over env and file", got.Database)
	}
	if got.LogFormat != "json" {
		t.Errorf("log_format = %q, want the file's json over the default", got.LogFormat)
	}
	e["GRANTD_DEV"] = "maybe"
	if _, err := Load(writeConfig(t, goodYAML), env(e)); err == nil || !strings.Contains(err.Error(), "GRANTD_DEV") {
		t.Errorf("Load with GRANTD_DEV=maybe = %v, want an error naming it", err)
	}
}

func TestStrictDecodingReportsLine(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown top-level field", "listen: 127.0.0.1:1\nlisten_addr: x\n", "line 2: listen_addr: unknown field"},
		{"unknown nested field", "refresh:\n  interval: 1m\n  every: 2m\n", "line 3: refresh.every: unknown field"},
		{"unknown integration field", "integrations:\n  - id: a\n    provider: pax8\n    clientid: x\n", "line 4: integrations[0].clientid: unknown field (did you mean client_id?)"},
		{"inline secret", "integrations:\n  - id: a\n    client_secret: hunter2\n", "line 3: integrations[0].client_secret: unknown field"},
		{"unknown provider field", "providers:\n  - name: p\n    extends: pax8\n    tokenurl: x\n", "line 4: providers[0].tokenurl: unknown field (did you mean token_url?)"},
		{"bad duration", "refresh:\n  interval: soon\n", "line 2"},
		{"negative duration", "connect:\n  link_ttl: -1h\n", "line 2"},
		{"syntax", "listen: [\n", "line"},
		{"two documents", "listen: a:1\n---\nlisten: b:2\n", "more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tc.yaml), env(baseEnv(t)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error reveals the inline secret: %v", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), env(nil)); err == nil {
		t.Errorf("Load(missing file) = nil error")
	}
}

// TestAllErrorsAtOnce feeds a config with many mistakes and checks that
// each is reported, by YAML path, and that no secret value appears.
func TestAllErrorsAtOnce(t *testing.T) {
	const yaml = `
listen: nowhere
public_url: http://grantd.example.com
database: mysql://x
log_level: loud
log_format: xml
return_to_allow: ["https://*.example.com/", "http://app.example.com/"]
providers:
  - name: other
    extends: pax8
    issuer: https://login.pax8.com
    token_url: http://token.example.com/
integrations:
  - id: pax8
    provider: pax8
    client_id: abc
    client_secret_env: PAX8_CLIENT_SECRET
    redirect_uri: http://evil.example.com/cb
  - id: pax8
    provider: nope
    client_id: abc
    client_secret_env: MISSING_SECRET
  - id: Bad/Id
    provider: pax8
    client_secret_env: S
    client_secret_file: /s
  - id: daxko
    provider: daxko
    client_id: u
    client_secret_file: /nonexistent/daxko-password
refresh:
  interval: 0s
  timeout: 30s
  lease_ttl: 30s
connect:
  session_ttl: 0s
`
	e := baseEnv(t)
	e["GRANTD_ADMIN_KEY"] = "tiny-key"
	e["GRANTD_VAULT_KEYS"] = "1:notbase64!,1:AAAA"
	_, err := Load(writeConfig(t, yaml), env(e))
	if err == nil {
		t.Fatal("Load = nil error")
	}
	msg := err.Error()
	for _, want := range []string{
		`listen: "nowhere" is not host:port`,
		"public_url: \"http://grantd.example.com\" must use https",
		`database: unsupported scheme "mysql"`,
		`log_level: unknown value "loud"`,
		`log_format: unknown value "xml"`,
		"return_to_allow[0]:",
		"wildcard",
		"return_to_allow[1]:",
		"admin_key_env: the admin key is shorter than 16",
		"vault.keys_env: environment variable GRANTD_VAULT_KEYS: key 0 (id 1): secret is not base64",
		"provider other: token_url:",
		"issuer https://login.pax8.com is also the issuer of provider pax8 (SEC-25)",
		"integrations[0].redirect_uri:",
		`integrations[1].id: "pax8" is also the id of integrations[0]`,
		`integrations[1].provider: unknown provider "nope"`,
		"integrations[1].client_secret_env: environment variable MISSING_SECRET is empty",
		`integrations[2].id: "Bad/Id" must be`,
		"integrations[2].client_id: is required",
		"integrations[2].client_secret_env and integrations[2].client_secret_file: set only one",
		"integrations[3].client_secret_file: open /nonexistent/daxko-password",
		"integrations[3].partner_token_env: is required for daxko",
		"refresh.interval: must be positive",
		"refresh.lease_ttl: must exceed refresh.timeout (30s)",
		"connect.session_ttl: must be positive",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q", want)
		}
	}
	for _, secret := range []string{"tiny-key", "pax8-secret-value", "notbase64"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error reveals secret %q", secret)
		}
	}
	if t.Failed() {
		t.Logf("full error:\n%s", msg)
	}
}

// TestSecretsFromEnvAndFile reads client secrets and partner tokens from
// the environment and from files.
func TestSecretsFromEnvAndFile(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "daxko-password")
	tok := filepath.Join(dir, "daxko-token")
	keys := filepath.Join(dir, "vault-keys")
	os.WriteFile(pw, []byte("daxko-pass\n"), 0o600)
	os.WriteFile(tok, []byte("eyJ.partner.token"), 0o600)
	e := baseEnv(t)
	os.WriteFile(keys, []byte(e["GRANTD_VAULT_KEYS"]+"\n"), 0o600)
	delete(e, "GRANTD_VAULT_KEYS")
	got, err := Load(writeConfig(t, fmt.Sprintf(`
public_url: https://grantd.example.com
vault:
  keys_env: ""
  keys_file: %s
integrations:
  - id: pax8
    provider: pax8
    client_id: abc
    client_secret_env: PAX8_CLIENT_SECRET
  - id: daxko
    provider: daxko
    client_id: daxko_api_user
    client_secret_file: %s
    partner_token_file: %s
    scopes: ["client:9999"]
`, keys, pw, tok)), env(e))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := got.Integrations[0].ClientSecret.Reveal(), "pax8-secret-value"; got != want {
		t.Errorf("pax8 client secret = %q, want %q", got, want)
	}
	if got, want := got.Integrations[1].ClientSecret.Reveal(), "daxko-pass"; got != want {
		t.Errorf("daxko client secret = %q, want %q (trailing newline dropped)", got, want)
	}
	if got, want := got.Integrations[1].PartnerToken.Reveal(), "eyJ.partner.token"; got != want {
		t.Errorf("daxko partner token = %q, want %q", got, want)
	}
	if got.Integrations[1].RedirectURI != "" {
		t.Errorf("daxko redirect_uri = %q, want none (not authorization_code)", got.Integrations[1].RedirectURI)
	}
	if len(got.Vault.Keys) != 1 {
		t.Errorf("vault keys from file: %d keys, want 1", len(got.Vault.Keys))
	}
}

// TestSEC52 accepts http public_url, redirect URIs and provider endpoints on
// loopback only in dev mode, and never off loopback (SEC-52).
func TestSEC52(t *testing.T) {
	yaml := func(host string) string {
		return fmt.Sprintf(`
public_url: http://%[1]s:8080
return_to_allow: [http://%[1]s:3000/]
providers:
  - name: pax8
    extends: pax8
    issuer: http://%[1]s:8081/pax8/
    authorize_url: http://%[1]s:8081/pax8/authorize
    token_url: http://%[1]s:8081/pax8/oauth/token
    userinfo_url: http://%[1]s:8081/pax8/userinfo
    jwks_url: http://%[1]s:8081/pax8/jwks
    api: {base_url: "http://%[1]s:8081/pax8/v1"}
integrations:
  - id: pax8
    provider: pax8
    client_id: abc
    client_secret_env: PAX8_CLIENT_SECRET
`, host)
	}
	for _, tc := range []struct {
		host    string
		dev     bool
		wantErr bool
	}{
		{"127.0.0.1", true, false},
		{"localhost", true, false},
		{"127.0.0.1", false, true},
		{"grantd.example.com", true, true},
		{"192.168.1.10", true, true},
	} {
		e := baseEnv(t)
		if tc.dev {
			e["GRANTD_DEV"] = "1"
		}
		_, err := Load(writeConfig(t, yaml(tc.host)), env(e))
		if gotErr := err != nil; gotErr != tc.wantErr {
			t.Errorf("host %s dev=%v: Load = %v, want error %v", tc.host, tc.dev, err, tc.wantErr)
		}
		if tc.wantErr && err != nil {
			for _, field := range []string{"public_url:", "return_to_allow[0]:", "provider pax8: issuer:", "token_url:", "api.base_url:", "integrations[0].redirect_uri:"} {
				if !strings.Contains(err.Error(), field) {
					t.Errorf("host %s dev=%v: error lacks %q", tc.host, tc.dev, field)
				}
			}
		}
	}
}

// TestSEC25DuplicateIssuer rejects a custom provider that reuses another
// provider's issuer (SEC-25).
func TestSEC25DuplicateIssuer(t *testing.T) {
	_, err := Load(writeConfig(t, `
public_url: https://grantd.example.com
providers:
  - name: acme
    extends: paxful
    issuer: https://accounts.paxful.com/
`), env(baseEnv(t)))
	if err == nil || !strings.Contains(err.Error(), "SEC-25") {
		t.Errorf("Load with a duplicate issuer = %v, want a SEC-25 error", err)
	}
}

func TestBuiltInCode(t *testing.T) {
	// The demo builds its config in code: resolved fields are checked
	// directly.
	c := Default()
	c.Dev = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "no admin key") || !strings.Contains(err.Error(), "no vault keys") {
		t.Errorf("Validate without secrets = %v, want admin key and vault key errors", err)
	}
	k, _ := vault.GenerateKey(1)
	c.AdminKey = adminKey
	c.Vault.Keys = []vault.Key{k}
	c.Integrations = []Integration{{ID: "pax8", Provider: "pax8", ClientID: "abc", ClientSecret: "x"}}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
	if got, want := c.Integrations[0].RedirectURI, "http://127.0.0.1:8080/oauth/callback/pax8"; got != want {
		t.Errorf("redirect_uri = %q, want %q", got, want)
	}
	c.Vault.Primary = 9
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "vault.primary") {
		t.Errorf("Validate with an absent primary = %v", err)
	}
}

func TestSecretRedacted(t *testing.T) {
	s := Secret("hunter2")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", s, "in", Integration{ClientSecret: s})
	for name, out := range map[string]string{
		"String": s.String(), "%v": fmt.Sprintf("%v", s), "%#v": fmt.Sprintf("%#v", s),
		"struct %+v": fmt.Sprintf("%+v", Integration{ClientSecret: s}), "slog": logs.String(),
	} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, Redacted) {
			t.Errorf("%s = %q, want REDACTED without the value", name, out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}
