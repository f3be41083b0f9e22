package provider

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func decodeCustom(t *testing.T, src string) []Custom {
	t.Helper()
	var cs []Custom
	if err := decodeStrict([]byte(src), &cs); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return cs
}

func TestExtendPointsPax8AtSandbox(t *testing.T) {
	cs := decodeCustom(t, `
- name: pax8
  extends: pax8
  issuer: http://127.0.0.1:8081/pax8/
  authorize_url: http://127.0.0.1:8081/pax8/authorize
  token_url: http://127.0.0.1:8081/pax8/oauth/token
  userinfo_url: http://127.0.0.1:8081/pax8/userinfo
  jwks_url: http://127.0.0.1:8081/pax8/.well-known/jwks.json
  revocation_url: http://127.0.0.1:8081/pax8/oauth/revoke
  refresh_token:
    idle_lifetime: 30s
  api:
    base_url: http://127.0.0.1:8081/pax8/api/v1
`)
	ps, err := Resolve(Builtin(), cs)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	r, err := NewRegistry(ps...)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	got, _ := r.Get("pax8")
	want := pax8(t)
	want.Issuer = "http://127.0.0.1:8081/pax8/"
	want.AuthorizeURL = "http://127.0.0.1:8081/pax8/authorize"
	want.TokenURL = "http://127.0.0.1:8081/pax8/oauth/token"
	want.UserinfoURL = "http://127.0.0.1:8081/pax8/userinfo"
	want.JWKSURL = "http://127.0.0.1:8081/pax8/.well-known/jwks.json"
	want.RevocationURL = "http://127.0.0.1:8081/pax8/oauth/revoke"
	want.RefreshToken.IdleLifetime = Duration(30e9) // absolute_lifetime, rotation kept
	want.API.BaseURL = "http://127.0.0.1:8081/pax8/api/v1"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("extended pax8 (-want +got):\n%s", diff)
	}
	if err := got.Validate(true); err != nil {
		t.Errorf("Validate(dev) = %v", err)
	}
	if err := got.Validate(false); err == nil {
		t.Errorf("Validate(no dev) of loopback http = nil, want SEC-52 error")
	}
	if len(r.All()) != 5 {
		t.Errorf("len(All) = %d, want 5 (pax8 replaced, not added)", len(r.All()))
	}
}

func TestExtendOverridesToZero(t *testing.T) {
	base := pax8(t)
	got, err := Extend(base, []byte("name: pax8-plain\npkce: false\nscopes: [Manage:Pax8Data]\nrefresh_token: {requires_scope: \"\"}\n"))
	if err != nil {
		t.Fatalf("Extend: %v", err)
	}
	want := pax8(t)
	want.Name = "pax8-plain"
	want.PKCE = false
	want.Scopes = []string{"Manage:Pax8Data"}
	want.RefreshToken.RequiresScope = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extend (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(pax8(t), base); diff != "" {
		t.Errorf("Extend modified its base (-want +got):\n%s", diff)
	}
	if _, err := Extend(base, []byte("name: x\ntoken_uri: https://x/\n")); err == nil || !contains(err.Error(), "line 2: field token_uri not found") {
		t.Errorf("Extend with an unknown field = %v, want a line-numbered error", err)
	}
}

func TestCustomProviderFromScratch(t *testing.T) {
	cs := decodeCustom(t, `
- name: keycloak
  grant: authorization_code
  issuer: https://sso.example.com/realms/acme
  authorize_url: https://sso.example.com/realms/acme/protocol/openid-connect/auth
  token_url: https://sso.example.com/realms/acme/protocol/openid-connect/token
  jwks_url: https://sso.example.com/realms/acme/protocol/openid-connect/certs
  token_encoding: form
  client_auth: basic
  scopes: [openid, offline_access]
  pkce: true
  oidc: true
  id_token_algs: [RS256]
  access_token_ttl: 5m
  refresh_token: {rotation: always, requires_scope: offline_access}
  api: {base_url: https://api.example.com/}
`)
	ps, err := Resolve(Builtin(), cs)
	if err != nil {
		t.Fatal(err)
	}
	got := ps[len(ps)-1]
	if got.Name != "keycloak" || got.DisplayName != "keycloak" || got.ClientAuth != ClientAuthBasic {
		t.Errorf("custom provider = %+v", got)
	}
	if err := got.Validate(false); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	cs := decodeCustom(t, `
- extends: pax8
- name: pax8
  token_url: https://x.example.com/
- name: mine
  extends: nothere
- name: a
  extends: pax8
- name: a
  extends: pax8
`)
	_, err := Resolve(Builtin(), cs)
	if err == nil {
		t.Fatal("Resolve = nil error")
	}
	for _, want := range []string{
		"providers[0].name: is required",
		"providers[1].name: pax8 is a built-in provider",
		`providers[2].extends: unknown provider "nothere"`,
		"providers[4].name: provider a is declared twice",
	} {
		if !contains(err.Error(), want) {
			t.Errorf("Resolve error lacks %q; got:\n%v", want, err)
		}
	}
	var bad []Custom
	if err := decodeStrict([]byte("- name: x\n  extends: pax8\n  bogus: 1\n"), &bad); err == nil || !contains(err.Error(), "line 3: field bogus not found") {
		t.Errorf("strict decode of a custom provider = %v, want a line-numbered error", err)
	}
}

// TestRevocationURLStaysWithItsTokenEndpoint is SEC-34: a refresh token is
// sent only to the server that issued it. Pointing pax8's token_url at
// another origin without a revocation_url drops the inherited
// login.pax8.com one (so a disconnect cannot send a sandbox refresh token
// to the real Pax8), and a revocation_url on another origin than token_url
// is a configuration error.
func TestRevocationURLStaysWithItsTokenEndpoint(t *testing.T) {
	moved, err := Extend(pax8(t), []byte(`token_url: http://127.0.0.1:8081/pax8/oauth/token`))
	if err != nil {
		t.Fatal(err)
	}
	if moved.RevocationURL != "" {
		t.Errorf("RevocationURL = %q after moving token_url, want it dropped", moved.RevocationURL)
	}
	samePath, err := Extend(pax8(t), []byte(`token_url: https://login.pax8.com/oauth/token?tenant=x`))
	if err != nil {
		t.Fatal(err)
	}
	if samePath.RevocationURL != pax8(t).RevocationURL {
		t.Errorf("RevocationURL = %q with token_url on the same origin, want it kept", samePath.RevocationURL)
	}
	mixed, err := Extend(pax8(t), []byte(`revocation_url: https://evil.example/oauth/revoke`))
	if err != nil {
		t.Fatal(err)
	}
	err = mixed.Validate(false)
	if err == nil || !strings.Contains(err.Error(), "revocation_url") {
		t.Errorf("Validate with a revocation_url on another origin = %v, want a revocation_url error", err)
	}
}
