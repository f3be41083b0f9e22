package sandbox

import (
	"net/http"
	"slices"
	"time"
)

// Paxful's delegated access (seeds/003, provider-facts §3). Paxful suspended
// its marketplace in 2023, so this personality stands in for the live
// service entirely; where the vendor is silent the choice is marked
// [inferred].
//
// What it does, and why:
//   - /paxful/oauth2/authorize, /oauth2/token and /oauth2/userinfo mirror
//     accounts.paxful.com's documented paths; discovery and JWKS sit at
//     the usual .well-known paths under the issuer, base+"/paxful", an
//     origin without a trailing slash as OIDC Discovery §4 derives it
//     [inferred].
//   - Token requests must be form-encoded, as every documented request is;
//     JSON is refused with invalid_request.
//   - Access tokens live 1 h; an expired one gets 401 from the API and an
//     operation outside the granted scopes gets 403 (seeds/003).
//   - Every refresh decommissions the refresh token used and returns a new
//     one ("the given refresh_token gets decommissioned", seeds/003),
//     whatever Settings.Rotation says. Paxful does not document what
//     happens when a decommissioned token is presented again; the sandbox
//     follows Auth0 and node oidc-provider (RFC 9700 §4.14.2): invalid_grant
//     and the whole family revoked, so that a client which ever reuses a
//     token is caught [inferred]. Settings.ReuseInterval still applies.
//   - A code exchange always returns a refresh token (the SDK expects one
//     in "Step 5"); there is no offline_access scope.
//   - Token errors use RFC 6749 §5.2's statuses (400 invalid_grant, 401
//     invalid_client) rather than Auth0's [inferred].
//   - API scopes are named after the operation they allow, "represented
//     by service/endpoint" (seeds/003): paxful/v1/user/me allows POST
//     /paxful/v1/user/me. The real scope strings are not public [inferred].

// Paxful API operation scopes the sandbox knows.
const (
	scopePaxfulUserMe   = "paxful/v1/user/me"
	scopePaxfulOfferAll = "paxful/v1/offer/all"
)

// paxfulScopes are the paxful personality's scopes, in canonical order.
var paxfulScopes = []scopeInfo{
	{scopeOpenID, "Sign you in with your Paxful account (an ID token)"},
	{scopeProfile, "Your Paxful username, name, locale and picture"},
	{scopeEmail, "Your email address"},
	{scopePaxfulUserMe, "Read your Paxful account details"},
	{scopePaxfulOfferAll, "List the offers on the Paxful marketplace"},
}

// PaxfulProfile is the profile of a paxful demo account, with the fields of
// the Paxful SDK's Profile type (paxful/sdk-js:src/oauth/Profile.ts).
type PaxfulProfile struct {
	Nickname   string `json:"nickname"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Locale     string `json:"locale"`
	Picture    string `json:"picture"`
}

var paxfulAccounts = []Account{
	{Username: "trader@example-paxful.test", Password: "demo", Kind: KindUser, Name: "Tariq Trader", Company: "Paxful user", Subject: "paxful|u-0c5a1f3e"},
	{Username: "vendor@example-paxful.test", Password: "demo", Kind: KindUser, Name: "Vanya Seller", Company: "Paxful user", Subject: "paxful|u-7d2b9e41"},
}

var paxfulProfiles = map[string]PaxfulProfile{
	"paxful|u-0c5a1f3e": {Nickname: "TariqTrades", GivenName: "Tariq", FamilyName: "Trader", Locale: "en", Picture: "https://paxful.example/avatars/tariq.png"},
	"paxful|u-7d2b9e41": {Nickname: "VanyaSells", GivenName: "Vanya", FamilyName: "Seller", Locale: "ru", Picture: "https://paxful.example/avatars/vanya.png"},
}

// PaxfulProfileOf returns the profile of a paxful demo account by subject.
func PaxfulProfileOf(subject string) (PaxfulProfile, bool) {
	p, ok := paxfulProfiles[subject]
	return p, ok
}

// PaxfulSettings returns Paxful's documented behaviour (seeds/003):
// rotation, access tokens for 1 h. Refresh-token lifetimes are not
// documented; the sandbox uses Pax8's (one year absolute, 30 days idle)
// [inferred].
func PaxfulSettings() Settings {
	st := DefaultSettings()
	st.AccessTTL = time.Hour
	return st
}

var paxfulDialect = &dialect{
	vendor:       "Paxful",
	issuerSuffix: "",
	paths: authPaths{
		authorize: "/oauth2/authorize", token: "/oauth2/token", userinfo: "/oauth2/userinfo",
		jwks: "/.well-known/jwks.json",
	},
	scopes:       paxfulScopes,
	refreshScope: "",
	alwaysRotate: true,
	formOnly:     true,
	rfcErrors:    true,
	accounts:     paxfulAccounts,
	defaults:     PaxfulSettings,
	endpoints: func(base, name, iss string) Endpoints {
		return Endpoints{
			Issuer:       iss,
			AuthorizeURL: iss + "/oauth2/authorize",
			TokenURL:     iss + "/oauth2/token",
			UserinfoURL:  iss + "/oauth2/userinfo",
			JWKSURL:      iss + "/.well-known/jwks.json",
			DiscoveryURL: iss + "/.well-known/openid-configuration",
			// The gateway root, like https://api.paxful.com/: operations
			// are under /paxful/v1/.
			APIBaseURL: base + "/" + name + "-api",
		}
	},
	apiAudience: func(e Endpoints) string { return e.APIBaseURL },
	profile:     paxfulProfile,
	routes: func(s *Server, mux *http.ServeMux, p *provider) {
		s.authRoutes(mux, p)
		mux.Handle("/"+p.name+"-api/", s.paxfulAPI(p))
	},
}

// paxfulProfile adds the SDK's profile fields (profile scope) and email
// (email scope).
func paxfulProfile(acct Account, scopes []string, _ bool, out map[string]any) {
	if slices.Contains(scopes, scopeProfile) {
		if pr, ok := paxfulProfiles[acct.Subject]; ok {
			out["nickname"] = pr.Nickname
			out["given_name"] = pr.GivenName
			out["family_name"] = pr.FamilyName
			out["locale"] = pr.Locale
			out["picture"] = pr.Picture
		}
	}
	if slices.Contains(scopes, scopeEmail) {
		out["email"] = acct.Username
		out["email_verified"] = true
	}
}
