package sandbox

import (
	"mime"
	"net/http"
	"slices"
	"strings"
)

// dialect is what distinguishes one personality from another: its URLs,
// scopes, demo accounts, defaults and the few protocol choices where the
// vendors differ. The authorization-server machinery (authorize, login,
// consent, token, refresh families, userinfo, JWKS, discovery) is shared
// by the personalities that have one (pax8, paxful); daxko has only a token
// endpoint and an API, and registers its own routes.
type dialect struct {
	// vendor is the name shown on the login and consent pages.
	vendor string
	// issuerSuffix follows "/<name>" in the issuer: Auth0 issuers end with
	// a slash (pax8), Paxful's is an origin without one.
	issuerSuffix string
	// paths are the authorization-server endpoints under "/<name>".
	paths authPaths
	// scopes are the supported delegated scopes, in canonical order.
	scopes []scopeInfo
	// audiences are the values accepted in the authorize request's
	// audience parameter; nil means the personality takes none.
	audiences []string
	// refreshScope is the scope a code exchange needs to get a refresh
	// token (offline_access for Auth0); "" means always.
	refreshScope string
	// alwaysRotate rotates refresh tokens whatever Settings.Rotation says.
	alwaysRotate bool
	// formOnly refuses JSON token requests.
	formOnly bool
	// rfcErrors answers token errors with RFC 6749 §5.2's statuses (400
	// invalid_grant, 401 invalid_client) instead of Auth0's (403
	// invalid_grant, 401 access_denied).
	rfcErrors bool
	// partnerOnly refuses accounts whose Kind is not partner at login, as
	// Pax8 documents.
	partnerOnly bool
	// accounts are the demo users of the login page.
	accounts []Account
	// defaults are the personality's documented settings.
	defaults func() Settings
	// endpoints derives the personality's URLs from the base URL.
	endpoints func(base, name, issuer string) Endpoints
	// apiAudience is the aud claim of delegated access tokens when the
	// request named no audience.
	apiAudience func(e Endpoints) string
	// profile adds the profile and email claims of acct for the granted
	// scopes to an id_token or, with userinfo, a userinfo answer.
	profile func(acct Account, scopes []string, userinfo bool, out map[string]any)
	// routes registers the personality's handlers.
	routes func(s *Server, mux *http.ServeMux, p *provider)
}

// authPaths are the authorization-server endpoint paths of a dialect,
// relative to "/<name>".
type authPaths struct {
	authorize, token, userinfo, jwks string
	// revoke is the RFC 7009 revocation endpoint; "" means none.
	revoke string
}

// dialects maps each personality to its dialect.
var dialects = map[string]*dialect{
	Pax8:   pax8Dialect,
	Paxful: paxfulDialect,
	Daxko:  daxkoDialect,
}

var pax8Dialect = &dialect{
	vendor:       "Pax8",
	issuerSuffix: "/",
	paths:        authPaths{authorize: "/authorize", token: "/oauth/token", userinfo: "/userinfo", jwks: "/.well-known/jwks.json", revoke: "/oauth/revoke"},
	scopes:       pax8Scopes,
	audiences:    delegatedAudiences,
	refreshScope: scopeOffline,
	partnerOnly:  true,
	accounts:     accounts,
	defaults:     DefaultSettings,
	endpoints: func(base, name, iss string) Endpoints {
		return Endpoints{
			Issuer:        iss,
			AuthorizeURL:  iss + "authorize",
			TokenURL:      iss + "oauth/token",
			UserinfoURL:   iss + "userinfo",
			JWKSURL:       iss + ".well-known/jwks.json",
			RevocationURL: iss + "oauth/revoke",
			DiscoveryURL:  iss + ".well-known/openid-configuration",
			APIBaseURL:    base + "/" + name + "-api/v1",
			APITokenURL:   base + "/" + name + "-api/v1/token",
		}
	},
	apiAudience: func(Endpoints) string { return audAPI },
	profile:     pax8Profile,
	routes: func(s *Server, mux *http.ServeMux, p *provider) {
		s.authRoutes(mux, p)
		pre := "/" + p.name
		mux.HandleFunc("POST "+pre+"-api/v1/token", func(w http.ResponseWriter, r *http.Request) {
			// createAccessToken documents only application/json (facts
			// §1.2), so a form body is refused here, while Auth0's
			// /oauth/token above accepts both as Auth0 does.
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				writeTokenError(w, &oauthError{http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/json"})
				return
			}
			s.handleToken(p, w, r)
		})
		mux.Handle(pre+"-api/v1/", s.apiAuth(p, s.api))
	},
}

// pax8Profile is Auth0's profile and email claims for a Pax8 account.
func pax8Profile(acct Account, scopes []string, userinfo bool, out map[string]any) {
	if slices.Contains(scopes, scopeProfile) {
		out["name"] = acct.Name
		out["nickname"] = strings.Split(acct.Username, "@")[0]
		if userinfo {
			out["updated_at"] = userinfoUpdatedAt
			out["https://pax8.com/company"] = acct.Company
		}
	}
	if slices.Contains(scopes, scopeEmail) {
		out["email"] = acct.Username
		out["email_verified"] = true
	}
}

// authRoutes registers the shared authorization server of p under
// "/<name>" at its dialect's paths.
func (s *Server) authRoutes(mux *http.ServeMux, p *provider) {
	pre, ps := "/"+p.name, p.d.paths
	with := func(h func(*provider, http.ResponseWriter, *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { h(p, w, r) }
	}
	mux.HandleFunc("GET "+pre+ps.authorize, with(s.handleAuthorize))
	mux.HandleFunc("POST "+pre+"/u/login", with(s.handleLogin))
	mux.HandleFunc("POST "+pre+"/u/consent", with(s.handleConsent))
	mux.HandleFunc("POST "+pre+ps.token, with(s.handleToken))
	mux.HandleFunc(pre+ps.userinfo, with(s.handleUserinfo))
	mux.HandleFunc("GET "+pre+ps.jwks, with(s.handleJWKS))
	mux.HandleFunc("GET "+pre+"/.well-known/openid-configuration", with(s.handleDiscovery))
	if ps.revoke != "" {
		mux.HandleFunc("POST "+pre+ps.revoke, with(s.handleRevoke))
	}
}

// grantedScopes keeps the known scopes of a space-separated request, in
// the dialect's canonical order; unknown scopes are ignored, as Auth0 does.
func (d *dialect) grantedScopes(requested string) []string {
	req := strings.Fields(requested)
	var out []string
	for _, s := range d.scopes {
		if slices.Contains(req, s.Name) {
			out = append(out, s.Name)
		}
	}
	return out
}

func (d *dialect) findAccount(username string) (Account, bool) {
	for _, a := range d.accounts {
		if a.Username == username {
			return a, true
		}
	}
	return Account{}, false
}

func (d *dialect) accountBySubject(sub string) (Account, bool) {
	for _, a := range d.accounts {
		if a.Subject == sub {
			return a, true
		}
	}
	return Account{}, false
}

// invalidGrant is the dialect's invalid_grant answer: Auth0's 403 with a
// description that depends on the grant (provider-facts §5), or RFC 6749
// §5.2's 400.
func (d *dialect) invalidGrant(grant string) *oauthError {
	e := invalidGrant(grant)
	if d.rfcErrors {
		e.Status = http.StatusBadRequest
	}
	return e
}

// unauthorized is the answer to an unknown client or a wrong secret:
// Auth0's 401 access_denied, or RFC 6749 §5.2's 401 invalid_client.
func (d *dialect) unauthorized() *oauthError {
	if d.rfcErrors {
		return &oauthError{http.StatusUnauthorized, "invalid_client", "Client authentication failed"}
	}
	return errUnauthorized
}
