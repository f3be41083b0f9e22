package sandbox_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/vault"
)

// endpointsOf is what a provider pointed at the sandbox must carry.
type endpointsOf struct {
	Issuer, AuthorizeURL, TokenURL, UserinfoURL, JWKSURL, RevocationURL, APIBaseURL string
}

// TestProviderYAMLLoads writes the ProviderYAML entries of every built-in
// the sandbox emulates into a config file, as a user pasting `grantd
// sandbox`'s output would, and loads it with grantd's config package:
// the config validates (SEC-52: http only on loopback in dev mode; SEC-34:
// no revocation URL off the token endpoint's origin) and each provider's
// endpoints are exactly the sandbox's, with no URL of the real vendor
// left behind.
func TestProviderYAMLLoads(t *testing.T) {
	s, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetBaseURL("http://127.0.0.1:9090")
	names := []string{sandbox.Pax8, sandbox.Paxful, sandbox.Daxko}
	var doc strings.Builder
	doc.WriteString("dev: true\nvault: {keys_env: VAULT_KEYS}\nadmin_key_env: ADMIN_KEY\nproviders:\n")
	for _, name := range names {
		var extra []string
		if name == sandbox.Pax8 {
			extra = []string{"refresh_token: {reuse_interval: 30s}", `description: "The sandbox: standing in for login.pax8.com, #1"`}
		}
		doc.WriteString("  - " + sandbox.ProviderYAML(name, s.Endpoints(name), extra...) + "\n")
	}
	doc.WriteString(`integrations:
  - {id: pax8, provider: pax8, client_id: a, client_secret_env: SECRET}
  - {id: paxful, provider: paxful, client_id: b, client_secret_env: SECRET}
  - {id: daxko, provider: daxko, client_id: c, client_secret_env: SECRET, partner_token_env: SECRET}
`)
	path := filepath.Join(t.TempDir(), "grantd.yaml")
	if err := os.WriteFile(path, []byte(doc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VAULT_KEYS": key.Encode(), "ADMIN_KEY": "admin-key-for-tests-0123456789abcdef", "SECRET": "s3cret"}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config.Load of\n%s\n= %v", doc.String(), err)
	}
	reg, err := cfg.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		p, ok := reg.Get(name)
		if !ok {
			t.Fatalf("provider %s missing", name)
		}
		ep := s.Endpoints(name)
		want := endpointsOf{ep.Issuer, ep.AuthorizeURL, ep.TokenURL, ep.UserinfoURL, ep.JWKSURL, ep.RevocationURL, ep.APIBaseURL}
		got := endpointsOf{p.Issuer, p.AuthorizeURL, p.TokenURL, p.UserinfoURL, p.JWKSURL, p.RevocationURL, p.API.BaseURL}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("provider %s endpoints (-want +got):\n%s", name, diff)
		}
		if builtin := builtinNamed(t, name); p.Grant != builtin.Grant || p.TokenEncoding != builtin.TokenEncoding {
			t.Errorf("provider %s: grant %s, encoding %s; want the built-in's %s, %s", name, p.Grant, p.TokenEncoding, builtin.Grant, builtin.TokenEncoding)
		}
	}
	p, _ := reg.Get(sandbox.Pax8)
	if got, want := p.RefreshToken.ReuseInterval.D(), 30*time.Second; got != want {
		t.Errorf("pax8 refresh_token.reuse_interval = %s, want %s", got, want)
	}
	if got, want := p.Description, "The sandbox: standing in for login.pax8.com, #1"; got != want {
		t.Errorf("pax8 description = %q, want %q", got, want)
	}
}

func builtinNamed(t *testing.T, name string) provider.Provider {
	t.Helper()
	for _, p := range provider.Builtin() {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no built-in provider %s", name)
	return provider.Provider{}
}

// TestProviderYAMLQuotes checks that values YAML would otherwise read as
// syntax (quotes, ": ", " #", braces, commas, newlines) come back intact,
// and that the entry is one line.
func TestProviderYAMLQuotes(t *testing.T) {
	odd := `http://127.0.0.1/a "b": c #d {e}, [f] \g` + "\n\té"
	ep := sandbox.Endpoints{Issuer: odd, AuthorizeURL: "true", TokenURL: "", UserinfoURL: "null", JWKSURL: "1", RevocationURL: "'x'", APIBaseURL: "{}"}
	got := sandbox.ProviderYAML("pax8", ep)
	if strings.Contains(got, "\n") || !strings.HasPrefix(got, "{name: pax8, extends: pax8, ") || !strings.HasSuffix(got, "}") {
		t.Errorf("ProviderYAML = %q, want one flow mapping on one line", got)
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("yaml.Unmarshal(%q): %v", got, err)
	}
	want := map[string]any{
		"name": "pax8", "extends": "pax8", "issuer": odd, "authorize_url": "true", "token_url": "",
		"userinfo_url": "null", "jwks_url": "1", "revocation_url": "'x'", "api": map[string]any{"base_url": "{}"},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("ProviderYAML round trip (-want +got):\n%s", diff)
	}
}
