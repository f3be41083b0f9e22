package provider

import (
	"strings"
	"testing"
	"time"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func pax8(t *testing.T) Provider {
	t.Helper()
	r, err := NewRegistry(Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Get("pax8")
	return p
}

// TestValidateSEC52 rejects http endpoints except on loopback hosts in dev
// mode (SEC-52).
func TestValidateSEC52(t *testing.T) {
	for _, tc := range []struct {
		url          string
		dev, wantErr bool
	}{
		{"https://login.example.com/", false, false},
		{"http://login.example.com/", false, true},
		{"http://login.example.com/", true, true},
		{"http://127.0.0.1:9000/", false, true},
		{"http://127.0.0.1:9000/", true, false},
		{"http://127.1.2.3/", true, false},
		{"http://[::1]:9000/", true, false},
		{"http://localhost:9000/", true, false},
		{"http://LOCALHOST/", true, false},
		{"http://localhost.evil.example/", true, true},
		{"http://127.0.0.1.nip.io/", true, true},
		{"http://10.0.0.1/", true, true},
		{"http://0.0.0.0/", true, true},
		{"ftp://127.0.0.1/", true, true},
		{"https://user:pass@login.example.com/", false, true},
		{"https://*.example.com/", false, true},
		{"https://login.example.com/#frag", false, true},
		{"/relative", true, true},
		{"https:opaque", false, true},
	} {
		err := CheckURL(tc.url, tc.dev)
		if gotErr := err != nil; gotErr != tc.wantErr {
			t.Errorf("CheckURL(%q, dev=%v) = %v, want error %v", tc.url, tc.dev, err, tc.wantErr)
		}
	}

	// Every endpoint field goes through the same check.
	for _, field := range []string{"issuer", "authorize_url", "token_url", "jwks_url", "userinfo_url", "revocation_url", "api.base_url"} {
		p := pax8(t)
		set := map[string]*string{"issuer": &p.Issuer, "authorize_url": &p.AuthorizeURL, "token_url": &p.TokenURL,
			"jwks_url": &p.JWKSURL, "userinfo_url": &p.UserinfoURL, "revocation_url": &p.RevocationURL, "api.base_url": &p.API.BaseURL}
		// token_url and revocation_url must share an origin (SEC-34), so
		// the pair moves together.
		pair := map[string]*string{"token_url": &p.RevocationURL, "revocation_url": &p.TokenURL}[field]
		move := func(u string) {
			*set[field] = u
			if pair != nil {
				*pair = u
			}
		}
		move("http://pax8.example.com/x")
		err := p.Validate(true)
		if err == nil || !contains(err.Error(), "provider pax8: "+field+":") {
			t.Errorf("Validate with http %s = %v, want an error naming %s", field, err, field)
		}
		move("http://127.0.0.1:8081/x")
		if err := p.Validate(true); err != nil {
			t.Errorf("Validate(dev) with loopback %s = %v, want nil", field, err)
		}
		// The error says how to turn dev mode on, not just its name.
		if err := p.Validate(false); err == nil || !contains(err.Error(), "dev: true") || !contains(err.Error(), "--dev") {
			t.Errorf("Validate(no dev) with loopback http %s = %v, want an error naming dev: true and --dev", field, err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	p := Provider{
		Name:          "Bad_Name",
		Grant:         "implicit",
		TokenEncoding: "xml",
		ClientAuth:    "jwt",
		IssParameter:  "sometimes",
		OIDC:          true,
		Scopes:        []string{"a b", ""},
		IDTokenAlgs:   []string{"none", "HS256"},
		Audience:      "https://*.example.com",
		RefreshToken:  RefreshPolicy{Rotation: "often", RequiresScope: "offline_access", AbsoluteLifetime: 1, IdleLifetime: 2, ReuseInterval: -1},
	}
	err := p.Validate(false)
	if err == nil {
		t.Fatal("Validate = nil, want errors")
	}
	for _, want := range []string{
		`provider "Bad_Name": name:`,
		"grant: unknown value \"implicit\"",
		"token_encoding: unknown value \"xml\"",
		"client_auth: unknown value \"jwt\"",
		"iss_parameter: unknown value",
		"refresh_token.rotation: unknown value \"often\"",
		"issuer: is required",
		"token_url: is required",
		"jwks_url: is required",
		"api.base_url: is required",
		"scopes[0]:",
		"scopes[1]:",
		"id_token_algs[0]: \"none\"",
		"id_token_algs[1]: \"HS256\"",
		"audience: must not contain a wildcard",
		"oidc: needs grant authorization_code",
		"access_token_ttl: must be positive",
		"refresh_token.idle_lifetime:",
		"refresh_token.reuse_interval: must not be negative",
	} {
		if !contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q; got:\n%v", want, err)
		}
	}
}

// TestValidateReuseInterval: a reuse interval only means something for
// rotating refresh tokens.
func TestValidateReuseInterval(t *testing.T) {
	p := pax8(t)
	p.RefreshToken.ReuseInterval = Duration(30 * time.Second)
	if err := p.Validate(false); err != nil {
		t.Fatalf("pax8 with a 30s reuse interval: %v", err)
	}
	p.RefreshToken.Rotation = RotationNever
	if err := p.Validate(false); err == nil || !contains(err.Error(), "refresh_token.reuse_interval: applies only to rotating refresh tokens") {
		t.Fatalf("reuse interval without rotation: %v", err)
	}
}

func TestValidateGrantRequirements(t *testing.T) {
	p := pax8(t)
	p.AuthorizeURL = ""
	if err := p.Validate(false); err == nil || !contains(err.Error(), "authorize_url: is required") {
		t.Errorf("authorization_code without authorize_url: %v", err)
	}
	p = pax8(t)
	p.RevocationURL = ""
	if err := p.Validate(false); err != nil {
		t.Errorf("pax8 without revocation_url (it is optional): %v", err)
	}
	p = pax8(t)
	p.Grant, p.AuthorizeURL, p.OIDC, p.RefreshToken.Rotation = ClientCredentials, "", false, RotationNever
	if err := p.Validate(false); err == nil || !contains(err.Error(), "revocation_url: is only used by authorization_code") {
		t.Errorf("client_credentials with revocation_url: %v", err)
	}
	p = pax8(t)
	p.Scopes = []string{"Manage:Pax8Data", "openid"}
	if err := p.Validate(false); err == nil || !contains(err.Error(), "must include offline_access") {
		t.Errorf("pax8 without offline_access: %v", err)
	}
	p = pax8(t)
	p.IssParameter = IssRequired
	p.Issuer = ""
	p.OIDC = false
	if err := p.Validate(false); err == nil || !contains(err.Error(), "iss_parameter: required needs an issuer") {
		t.Errorf("iss required without issuer: %v", err)
	}
	for _, p := range Builtin() {
		if p.Grant == ClientCredentials {
			p.RefreshToken.Rotation = RotationAlways
			if err := p.Validate(false); err == nil {
				t.Errorf("%s with rotation always = nil, want an error", p.Name)
			}
		}
	}
}

// TestRegistrySEC25 rejects two providers sharing an issuer, including
// near-duplicates, and duplicate names (SEC-25).
func TestRegistrySEC25(t *testing.T) {
	a := pax8(t)
	for _, issuer := range []string{"https://login.pax8.com/", "https://login.pax8.com", "HTTPS://LOGIN.PAX8.COM/"} {
		b := pax8(t)
		b.Name = "pax8-copy"
		b.Issuer = issuer
		_, err := NewRegistry(a, b)
		if err == nil || !contains(err.Error(), "SEC-25") || !contains(err.Error(), "provider pax8-copy") {
			t.Errorf("NewRegistry with issuer %q twice = %v, want a SEC-25 error", issuer, err)
		}
	}
	b := pax8(t)
	b.Issuer = "https://other.example.com/"
	if _, err := NewRegistry(a, b); err == nil || !contains(err.Error(), "declared twice") {
		t.Errorf("NewRegistry with name pax8 twice = %v, want an error", err)
	}
	if _, err := NewRegistry(a, Provider{}); err == nil {
		t.Errorf("NewRegistry with an empty name = nil error")
	}
	// Issuer-less client-credentials providers may coexist.
	if _, err := NewRegistry(Builtin()...); err != nil {
		t.Errorf("NewRegistry(Builtin()...) = %v", err)
	}
	r, _ := NewRegistry(a)
	if _, ok := r.Get("nope"); ok {
		t.Errorf(`Get("nope") found a provider`)
	}
}
