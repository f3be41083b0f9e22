package provider

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBuiltinsValidate(t *testing.T) {
	for _, p := range Builtin() {
		if err := p.Validate(false); err != nil {
			t.Errorf("built-in %s: Validate(false) = %v", p.Name, err)
		}
	}
	r, err := NewRegistry(Builtin()...)
	if err != nil {
		t.Fatalf("NewRegistry(Builtin()...): %v", err)
	}
	var got []string
	for _, p := range r.All() {
		got = append(got, p.Name)
	}
	want := []string{"daxko", "pax8", "pax8-partner", "pax8-vendor", "paxful"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("built-in names (-want +got):\n%s", diff)
	}
}

// TestPax8Facts asserts every documented Pax8 delegated-auth fact
// (seeds/000, provider-facts §1.3).
func TestPax8Facts(t *testing.T) {
	r, err := NewRegistry(Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := r.Get("pax8")
	if !ok {
		t.Fatal(`Get("pax8") not found`)
	}
	got.Description = "" // prose, not a fact
	want := Provider{
		Name:           "pax8",
		DisplayName:    "Pax8",
		Grant:          AuthorizationCode,
		Issuer:         "https://login.pax8.com/",
		AuthorizeURL:   "https://login.pax8.com/authorize",
		TokenURL:       "https://login.pax8.com/oauth/token",
		UserinfoURL:    "https://login.pax8.com/userinfo",
		JWKSURL:        "https://login.pax8.com/.well-known/jwks.json",
		RevocationURL:  "https://login.pax8.com/oauth/revoke",
		TokenEncoding:  JSON,
		ClientAuth:     ClientAuthBody,
		Audience:       "https://api.pax8.com",
		Scopes:         []string{"Manage:Pax8Data", "openid", "profile", "email", "offline_access"},
		PKCE:           true,
		OIDC:           true,
		IssParameter:   IssOptional,
		IDTokenAlgs:    []string{"RS256"},
		AccessTokenTTL: Duration(86400 * time.Second),
		RefreshToken: RefreshPolicy{
			AbsoluteLifetime: Duration(31_557_600 * time.Second),
			IdleLifetime:     Duration(2_592_000 * time.Second),
			Rotation:         RotationMaybe,
			RequiresScope:    "offline_access",
		},
		API: API{BaseURL: "https://api.pax8.com/v1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pax8 (-want +got):\n%s", diff)
	}
}

// TestOtherBuiltinFacts checks the facts that distinguish the other
// built-ins (seeds/001, 003, 004).
func TestOtherBuiltinFacts(t *testing.T) {
	r, err := NewRegistry(Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	type facts struct {
		Grant                  Grant
		TokenURL, AuthorizeURL string
		TokenEncoding          Encoding
		Audience, APIBase      string
		AccessTokenTTL         time.Duration
		Rotation               Rotation
	}
	want := map[string]facts{
		"pax8-partner": {ClientCredentials, "https://api.pax8.com/v1/token", "", JSON, "https://api.pax8.com", "https://api.pax8.com/v1", 24 * time.Hour, RotationNever},
		"pax8-vendor":  {ClientCredentials, "https://api.pax8.com/v1/token", "", JSON, "api://provisioning", "https://api.pax8.com/v2", 24 * time.Hour, RotationNever},
		"paxful":       {AuthorizationCode, "https://accounts.paxful.com/oauth2/token", "https://accounts.paxful.com/oauth2/authorize", Form, "", "https://api.paxful.com/", time.Hour, RotationAlways},
		"daxko":        {PartnerRefreshBearer, "https://api.daxko.com/v3/partners/oauth2/token", "", Form, "", "https://api.daxko.com/v3", 24 * time.Hour, RotationNever},
	}
	for name, w := range want {
		p, ok := r.Get(name)
		if !ok {
			t.Errorf("Get(%q) not found", name)
			continue
		}
		got := facts{p.Grant, p.TokenURL, p.AuthorizeURL, p.TokenEncoding, p.Audience, p.API.BaseURL, p.AccessTokenTTL.D(), p.RefreshToken.Rotation}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	paxful, _ := r.Get("paxful")
	if got, want := paxful.UserinfoURL, "https://accounts.paxful.com/oauth2/userinfo"; got != want {
		t.Errorf("paxful userinfo_url = %q, want %q", got, want)
	}
}

func TestBuiltinReturnsCopies(t *testing.T) {
	a := Builtin()
	a[0].Scopes[0] = "changed"
	a[0].Name = "changed"
	if b := Builtin(); b[0].Name == "changed" || b[0].Scopes[0] == "changed" {
		t.Errorf("Builtin() shares state between calls")
	}
	r, err := NewRegistry(Builtin()...)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Get("pax8")
	p.Scopes[0] = "changed"
	if q, _ := r.Get("pax8"); q.Scopes[0] == "changed" {
		t.Errorf("Registry.Get shares its scopes slice")
	}
}

func TestDecodeRejectsUnknownField(t *testing.T) {
	_, err := decodeList([]byte("- name: x\n  grant: client_credentials\n  tokn_url: https://x/\n"))
	if err == nil {
		t.Fatal("decodeList with an unknown field = nil error")
	}
	if want := "line 3: field tokn_url not found"; !contains(err.Error(), want) {
		t.Errorf("decodeList error = %v, want containing %q", err, want)
	}
}
