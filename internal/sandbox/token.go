package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
)

// maxTokenBody bounds token request bodies.
const maxTokenBody = 64 << 10

// oauthError is an Auth0-shaped token endpoint error: an HTTP status and a
// body {"error","error_description"} (RFC 6749 §5.2, provider-facts §5).
type oauthError struct {
	Status      int
	Code        string
	Description string
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errInvalidRequest(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", desc}
}

// errUnauthorized is Auth0's answer to an unknown client or a wrong secret
// (provider-facts §1.2).
var errUnauthorized = &oauthError{http.StatusUnauthorized, "access_denied", "Unauthorized"}

// tokenRequest is a parsed token request, whatever its encoding.
type tokenRequest struct {
	params map[string]string
	// raw is the body as received, for the echo faults.
	raw []byte
}

func (tr tokenRequest) get(k string) string { return tr.params[k] }

// parseTokenRequest reads a JSON or form-encoded body. A form-only dialect
// (Paxful, seeds/003) refuses JSON.
func parseTokenRequest(r *http.Request, d *dialect, st Settings) (tokenRequest, *oauthError) {
	tr := tokenRequest{params: map[string]string{}}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody+1))
	if err != nil {
		return tr, errInvalidRequest("could not read the request body")
	}
	if len(body) > maxTokenBody {
		return tr, errInvalidRequest("request body too large")
	}
	tr.raw = body
	switch mt {
	case "application/json":
		if d.formOnly {
			return tr, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded")
		}
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			return tr, errInvalidRequest("the request body is not valid JSON")
		}
		for k, v := range raw {
			switch v := v.(type) {
			case string:
				tr.params[k] = v
			case float64:
				tr.params[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				tr.params[k] = strconv.FormatBool(v)
			case nil:
			default:
				return tr, errInvalidRequest("parameter " + k + " must be a string")
			}
		}
	case "application/x-www-form-urlencoded":
		if st.RequireJSON {
			return tr, errInvalidRequest("Content-Type must be application/json")
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return tr, errInvalidRequest("the form body cannot be parsed")
		}
		for k, v := range vals {
			if len(v) > 1 {
				return tr, errInvalidRequest("parameter " + k + " is repeated")
			}
			tr.params[k] = v[0]
		}
	default:
		if st.RequireJSON {
			return tr, errInvalidRequest("Content-Type must be application/json")
		}
		if d.formOnly {
			return tr, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded")
		}
		return tr, errInvalidRequest("Content-Type must be application/json or application/x-www-form-urlencoded")
	}
	return tr, nil
}

// authenticateClient checks HTTP Basic (RFC 6749 §2.3.1, with the
// form-encoding of id and secret) or client_id/client_secret in the body.
func (p *provider) authenticateClient(r *http.Request, tr tokenRequest) (Client, *oauthError) {
	id, secret := tr.get("client_id"), tr.get("client_secret")
	if u, pw, ok := r.BasicAuth(); ok {
		if secret != "" {
			return Client{}, errInvalidRequest("use only one client authentication method")
		}
		var err1, err2 error
		u, err1 = url.QueryUnescape(u)
		pw, err2 = url.QueryUnescape(pw)
		if err1 != nil || err2 != nil {
			return Client{}, p.d.unauthorized()
		}
		if id != "" && id != u {
			return Client{}, errInvalidRequest("client_id does not match the authenticated client")
		}
		id, secret = u, pw
	}
	if id == "" || secret == "" {
		return Client{}, p.d.unauthorized()
	}
	p.mu.Lock()
	c, ok := p.clients[id]
	p.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, p.d.unauthorized()
	}
	return c, nil
}

// handleToken is the token endpoint (RFC 6749 §3.2), also served at the
// documented client-credentials URL. Each request is counted once in the
// stats, by grant type and outcome.
func (s *Server) handleToken(p *provider, w http.ResponseWriter, r *http.Request) {
	grant, outcome := "", "ok"
	defer func() { p.countToken(grant, outcome) }()
	fail := func(e *oauthError) {
		outcome = e.Code
		writeTokenError(w, e)
	}
	p.mu.Lock()
	st := p.settings
	p.mu.Unlock()
	tr, oerr := parseTokenRequest(r, p.d, st)
	grant = tr.get("grant_type")
	if f, down := s.faults.take(p.name, endpointToken, grant, isOutage); down {
		outcome = kindOutage
		writeTokenError(w, errOutage(f))
		return
	}
	if o, ok := s.tokenGate(p, w, r, st); !ok {
		outcome = o
		return
	}
	// SEC-38: a client secret in the URL is refused, whatever else.
	if r.URL.Query().Has("client_secret") {
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
	client, oerr := p.authenticateClient(r, tr)
	if oerr != nil {
		fail(oerr)
		return
	}
	now := s.Now()
	var resp map[string]any
	switch grant {
	case grantAuthorizationCode:
		resp, oerr = s.exchangeCode(p, tr, client, st, now, f)
	case grantRefreshToken:
		resp, oerr = s.refreshGrant(p, tr, client, st, now, f)
	case grantClientCredentials:
		resp, oerr = s.clientCredentials(p, tr, client, st, now)
	case "":
		oerr = errInvalidRequest("Missing required parameter: grant_type")
	default:
		oerr = &oauthError{http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: " + grant}
	}
	if oerr != nil {
		fail(oerr)
		return
	}
	if faulted && s.postTokenFault(w, r, tr.raw, f, resp) {
		outcome = f.Kind
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// preTokenFault answers instead of the token endpoint. It reports whether
// it wrote the response; "slow" only waits. raw is the request body.
func (s *Server) preTokenFault(w http.ResponseWriter, r *http.Request, d *dialect, grant string, raw []byte, f Fault) bool {
	switch f.Kind {
	case "slow":
		sleepCtx(r.Context(), f.Delay)
		return false
	case "invalid_grant":
		writeTokenError(w, d.invalidGrant(grant))
	case "server_error":
		writeTokenError(w, &oauthError{statusOr(f.Status, http.StatusInternalServerError), "server_error", "The server encountered an unexpected error (sandbox fault)."})
	case "rate_limited":
		w.Header().Set("Retry-After", "1")
		writeTokenError(w, &oauthError{http.StatusTooManyRequests, "too_many_requests", "Too many requests (sandbox fault)."})
	case "malformed":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"access_token":"truncated`)
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(statusOr(f.Status, http.StatusBadGateway))
		io.WriteString(w, "<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>sandbox fault html</p></body></html>\n")
	case kindOutage:
		writeTokenError(w, errOutage(f))
	case "echo_request":
		// A provider that quotes the request, secrets included, in its
		// error text: the client must not log or show it.
		writeTokenError(w, errInvalidRequest(string(raw)))
	default:
		return false
	}
	return true
}

// postTokenFault alters a successful response after the grant was
// processed, so that state (a rotated refresh token) has changed although
// the client may not accept what it got. It reports whether it wrote the
// response. raw is the request body.
func (s *Server) postTokenFault(w http.ResponseWriter, r *http.Request, raw []byte, f Fault, resp map[string]any) bool {
	switch f.Kind {
	case "slow_after":
		// The grant is processed (a refresh token rotated); the answer
		// comes after Delay, by when the client may have given up.
		sleepCtx(r.Context(), f.Delay)
		return false
	case "server_error_after":
		writeTokenError(w, &oauthError{statusOr(f.Status, http.StatusInternalServerError), "server_error", "The server encountered an unexpected error (sandbox fault)."})
		return true
	case "no_access_token":
		delete(resp, "access_token")
	case "token_type_mac":
		resp["token_type"] = "mac"
	case "echo_token_type":
		// Provider text quoting the request in a field a client might
		// log or put in an error message.
		resp["token_type"] = string(raw)
	case "expires_in_string":
		resp["expires_in"] = fmt.Sprint(resp["expires_in"])
	case "expires_in_negative":
		resp["expires_in"] = -3600
	case "expires_in_huge":
		resp["expires_in"] = int64(1_000_000_000_000)
	default:
		return false
	}
	writeJSON(w, http.StatusOK, resp)
	return true
}

// invalidGrant is Auth0's invalid_grant answer, 403 with a description
// that depends on the grant (provider-facts §5).
func invalidGrant(grant string) *oauthError {
	desc := "Invalid authorization code"
	if grant == grantRefreshToken {
		desc = "Unknown or invalid refresh token."
	}
	return &oauthError{http.StatusForbidden, "invalid_grant", desc}
}

// errOutage is the answer of an endpoint during an outage: 503 (or the
// fault's status) with the OAuth error code RFC 6749 §4.1.2.1 gives for a
// server that is temporarily unable to answer.
func errOutage(f Fault) *oauthError {
	return &oauthError{statusOr(f.Status, http.StatusServiceUnavailable), "temporarily_unavailable", "The service is temporarily unavailable (sandbox outage)."}
}

func writeTokenError(w http.ResponseWriter, e *oauthError) {
	writeJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}

// writeJSON writes v with Cache-Control: no-store (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
