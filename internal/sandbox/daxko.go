package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Daxko's partner authentication (seeds/004, provider-facts §4): the
// partner's long-lived refresh token goes in "Authorization: Bearer" to
// POST /v3/partners/oauth2/token with client_id=<username>,
// client_secret=<password>, grant_type=client_credentials and
// scope=client:<id>; the answer is an access token for that one Daxko
// client. The personality's base, base+"/daxko", stands for
// https://api.daxko.com.
//
// Choices where Daxko is silent [inferred]:
//   - A missing or wrong bearer, username or password is 401
//     invalid_client: the request is not authenticated.
//   - A scope that does not parse (no client, a client that is not an
//     integer, an unknown name, two clients) is 400 invalid_scope; a
//     well-formed client the partner may not access, or that does not
//     exist, is 403 access_denied: the partner is authenticated but not
//     authorized for it, and both look the same so that client ids cannot
//     be probed.
//   - Errors use RFC 6749 §5.2's body; API errors use the {"errors":
//     [{"message"}]} shape of Daxko's cart responses.

// DaxkoPartner is a Daxko API account: the username, password and refresh
// token Daxko issues to a partner (seeds/004), and the Daxko clients it may
// act for (empty: every client the sandbox knows).
type DaxkoPartner struct {
	Username     string `json:"username"`
	Password     string `json:"password"`
	RefreshToken string `json:"refresh_token"`
	Clients      []int  `json:"clients,omitempty"`
}

// String implements [fmt.Stringer] without the password or token.
func (dp DaxkoPartner) String() string { return "DaxkoPartner{" + dp.Username + ", REDACTED}" }

// DaxkoUnit is a location of a Daxko client, served at /v3/units/{id}.
type DaxkoUnit struct {
	ID       int    `json:"id"`
	ClientID int    `json:"client_id"`
	Name     string `json:"name"`
	City     string `json:"city"`
}

// daxkoClients are the sandbox's Daxko clients and their units.
var daxkoClients = map[int][]DaxkoUnit{
	9999: {
		{ID: 101, ClientID: 9999, Name: "Downtown YMCA", City: "Birmingham"},
		{ID: 102, ClientID: 9999, Name: "Northside YMCA", City: "Birmingham"},
	},
	4242: {
		{ID: 201, ClientID: 4242, Name: "Lakeside Fitness", City: "Madison"},
	},
}

// DaxkoUnits returns the units of a sandbox Daxko client (9999 and 4242
// exist).
func DaxkoUnits(client int) []DaxkoUnit { return append([]DaxkoUnit(nil), daxkoClients[client]...) }

// DaxkoSettings returns Daxko's documented behaviour: access tokens for one
// day with expires_in as the string "86400", as in the seed's example
// (seeds/004).
func DaxkoSettings() Settings {
	return Settings{AccessTTL: 24 * time.Hour, RefreshAbsolute: 8766 * time.Hour, RefreshIdle: 720 * time.Hour}
}

var daxkoDialect = &dialect{
	vendor:   "Daxko",
	defaults: DaxkoSettings,
	endpoints: func(base, name, iss string) Endpoints {
		return Endpoints{
			Issuer:     iss,
			TokenURL:   base + "/" + name + "/v3/partners/oauth2/token",
			APIBaseURL: base + "/" + name + "/v3",
		}
	},
	routes: func(s *Server, mux *http.ServeMux, p *provider) {
		pre := "/" + p.name + "/v3"
		mux.HandleFunc("POST "+pre+"/partners/oauth2/token", func(w http.ResponseWriter, r *http.Request) { s.handleDaxkoToken(p, w, r) })
		mux.Handle(pre+"/", s.daxkoAPI(p))
	},
}

// RegisterDaxkoPartner registers (or replaces) a Daxko partner account. It
// reports an error when a field is empty.
func (s *Server) RegisterDaxkoPartner(dp DaxkoPartner) error {
	if dp.Username == "" || dp.Password == "" || dp.RefreshToken == "" {
		return fmt.Errorf("daxko partner: username, password and refresh_token are required")
	}
	dp.Clients = append([]int(nil), dp.Clients...)
	p := s.providers[Daxko]
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partners[dp.Username] = dp
	return nil
}

var errDaxkoUnauthorized = &oauthError{http.StatusUnauthorized, "invalid_client", "Unauthorized"}

// parseDaxkoTokenRequest reads a urlencoded, multipart (the seed's curl -F)
// or JSON (Daxko's swagger) body.
func parseDaxkoTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, *oauthError) {
	tr := tokenRequest{params: map[string]string{}}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenBody))
	if err != nil {
		return tr, errInvalidRequest("could not read the request body")
	}
	tr.raw = body
	r.Body = io.NopCloser(bytes.NewReader(body))
	var vals url.Values
	switch mt {
	case "application/json":
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			return tr, errInvalidRequest("the request body is not valid JSON")
		}
		for k, v := range raw {
			s, ok := v.(string)
			if !ok && v != nil {
				return tr, errInvalidRequest("parameter " + k + " must be a string")
			}
			tr.params[k] = s
		}
		return tr, nil
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return tr, errInvalidRequest("the form body cannot be parsed")
		}
		vals = r.PostForm
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxTokenBody); err != nil {
			return tr, errInvalidRequest("the multipart body cannot be parsed")
		}
		vals = r.MultipartForm.Value
	default:
		return tr, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded, multipart/form-data or application/json")
	}
	for k, v := range vals {
		if len(v) > 1 {
			return tr, errInvalidRequest("parameter " + k + " is repeated")
		}
		tr.params[k] = v[0]
	}
	return tr, nil
}

// daxkoScopeClient parses a scope of space-delimited name:value pairs
// (names client and tokenize) and returns its one client id.
func daxkoScopeClient(scope string) (int, *oauthError) {
	bad := func(desc string) (int, *oauthError) {
		return 0, &oauthError{http.StatusBadRequest, "invalid_scope", desc}
	}
	client := 0
	for pair := range strings.FieldsSeq(scope) {
		name, value, ok := strings.Cut(pair, ":")
		if !ok || value == "" {
			return bad("scope entries are name:value pairs")
		}
		switch name {
		case "client":
			id, err := strconv.Atoi(value)
			if err != nil || id <= 0 {
				return bad("client must be a positive integer")
			}
			if client != 0 {
				return bad("only one client may be requested")
			}
			client = id
		case "tokenize":
		default:
			return bad("unknown scope name " + name)
		}
	}
	if client == 0 {
		return bad("scope must name a client, e.g. client:9999")
	}
	return client, nil
}

// handleDaxkoToken is POST /v3/partners/oauth2/token. Each request is
// counted once, by grant type and outcome; token faults apply.
func (s *Server) handleDaxkoToken(p *provider, w http.ResponseWriter, r *http.Request) {
	grant, outcome := "", "ok"
	defer func() { p.countToken(grant, outcome) }()
	fail := func(e *oauthError) {
		outcome = e.Code
		if e.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		writeTokenError(w, e)
	}
	tr, oerr := parseDaxkoTokenRequest(w, r)
	grant = tr.get("grant_type")
	if f, down := s.faults.take(p.name, endpointToken, grant, isOutage); down {
		outcome = kindOutage
		writeTokenError(w, errOutage(f))
		return
	}
	p.mu.Lock()
	st := p.settings
	p.mu.Unlock()
	if o, ok := s.tokenGate(p, w, r, st); !ok {
		outcome = o
		return
	}
	if r.URL.Query().Has("client_secret") { // SEC-38
		fail(errInvalidRequest("client_secret must not be sent in the URL"))
		return
	}
	if oerr != nil {
		fail(oerr)
		return
	}
	f, faulted := s.faults.take(p.name, endpointToken, grant, nil)
	if faulted {
		if s.preTokenFault(w, r, p.d, grant, tr.raw, f) {
			outcome = f.Kind
			return
		}
		if r.Context().Err() != nil {
			outcome = "canceled"
			return
		}
	}
	scheme, bearer, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	p.mu.Lock()
	dp, known := p.partners[tr.get("client_id")]
	p.mu.Unlock()
	if !strings.EqualFold(scheme, "Bearer") || !known ||
		subtle.ConstantTimeCompare([]byte(dp.RefreshToken), []byte(strings.TrimSpace(bearer))) != 1 ||
		subtle.ConstantTimeCompare([]byte(dp.Password), []byte(tr.get("client_secret"))) != 1 {
		fail(errDaxkoUnauthorized)
		return
	}
	if grant != grantClientCredentials {
		fail(&oauthError{http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials"})
		return
	}
	client, oerr := daxkoScopeClient(tr.get("scope"))
	if oerr != nil {
		fail(oerr)
		return
	}
	if _, exists := daxkoClients[client]; !exists || (len(dp.Clients) > 0 && !slices.Contains(dp.Clients, client)) {
		fail(&oauthError{http.StatusForbidden, "access_denied", fmt.Sprintf("the partner is not authorized for client %d", client)})
		return
	}
	resp, err := s.issueDaxko(p, dp.Username, client, st)
	if err != nil {
		s.log.Error("sandbox issue daxko token", "err", err)
		fail(&oauthError{http.StatusInternalServerError, "server_error", "could not issue tokens"})
		return
	}
	if faulted && s.postTokenFault(w, r, tr.raw, f, resp) {
		outcome = f.Kind
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// issueDaxko signs an access token for one Daxko client.
func (s *Server) issueDaxko(p *provider, username string, client int, st Settings) (map[string]any, error) {
	now := s.Now()
	jti := randomToken(16)
	scope := "client:" + strconv.Itoa(client)
	tok, err := signJWT(s.keys.signer(), algRS256, false, map[string]any{
		"iss":       s.Issuer(p.name),
		"sub":       username,
		"aud":       s.Endpoints(p.name).APIBaseURL,
		"scope":     scope,
		"client_id": client,
		"iat":       now.Unix(),
		"exp":       now.Add(st.AccessTTL).Unix(),
		"jti":       jti,
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.pruneTokensLocked(now)
	p.accessGrant[jti] = accessEntry{expires: now.Add(st.AccessTTL)}
	p.mu.Unlock()
	secs := int64(st.AccessTTL / time.Second)
	var expiresIn any = strconv.FormatInt(secs, 10)
	if st.ExpiresInNumber {
		expiresIn = secs
	}
	return map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": expiresIn}, nil
}
