package sandbox

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"
)

// pkceChallenge matches an S256 code_challenge: 43 base64url characters
// (RFC 7636 §4.2).
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

type loginPage struct {
	Provider, Vendor, Title, Action, Txn, ClientName, Username, Error string
	// Accounts are the demo accounts that may log in.
	Accounts []Account
}

type consentPage struct {
	Provider, Vendor, Title, Action, Txn, ClientName, AccountName, Company string
	Scopes                                                                 []scopeInfo
}

// loginAccounts are the demo accounts the login page offers.
func (d *dialect) loginAccounts() []Account {
	var out []Account
	for _, a := range d.accounts {
		if !d.partnerOnly || a.Kind == KindPartner {
			out = append(out, a)
		}
	}
	return out
}

func isGenericFault(kind string) bool {
	switch kind {
	case "server_error", "slow", "html", "rate_limited", kindOutage:
		return true
	}
	return false
}

// handleAuthorize is the authorization endpoint (RFC 6749 §4.1.1). Errors
// found before the client and redirect_uri are validated are shown as a
// page, never redirected (RFC 6749 §4.1.2.1).
func (s *Server) handleAuthorize(p *provider, w http.ResponseWriter, r *http.Request) {
	p.countAuthorize()
	if f, ok := s.faults.take(p.name, endpointAuthorize, "", isGenericFault); ok {
		if s.pageFault(p, w, r, f) {
			return
		}
	}
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			s.renderMessage(w, http.StatusBadRequest, p.name, "Invalid request", "Parameter "+k+" is repeated.", "RFC 6749 §3.1: request parameters must not be included more than once.")
			return
		}
	}
	p.mu.Lock()
	client, known := p.clients[q.Get("client_id")]
	settings := p.settings
	p.mu.Unlock()
	if !known {
		s.renderMessage(w, http.StatusBadRequest, p.name, "Unknown client", "Unknown client: "+q.Get("client_id"), "The client_id is not registered with this sandbox.")
		return
	}
	redirect := q.Get("redirect_uri")
	// SEC-08: the redirect URI must equal a registered one byte for byte.
	if redirect == "" || !slices.Contains(client.RedirectURIs, redirect) {
		s.renderMessage(w, http.StatusBadRequest, p.name, "Callback URL mismatch", "Callback URL mismatch. "+redirect+" is not in the list of allowed callback URLs.", "Redirect URIs are compared byte for byte.")
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) {
		s.redirectResult(p, w, r, settings, redirect, url.Values{"error": {code}, "error_description": {desc}}, state)
	}
	if rt := q.Get("response_type"); rt != "code" {
		fail("unsupported_response_type", "Unsupported response type: "+rt)
		return
	}
	aud := q.Get("audience")
	switch {
	case p.d.audiences == nil:
		aud = p.d.apiAudience(s.Endpoints(p.name))
	case aud == "":
		fail("invalid_request", "audience is required")
		return
	case !slices.Contains(p.d.audiences, aud):
		fail("access_denied", "Service not found: "+aud)
		return
	}
	// SEC-04: PKCE is optional for this confidential client, but when sent
	// it must be S256.
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		fail("invalid_request", "code_challenge is required when code_challenge_method is sent")
		return
	case challenge != "" && method != "S256":
		fail("invalid_request", "code_challenge_method must be S256; plain is not supported")
		return
	case challenge != "" && !pkceChallenge.MatchString(challenge):
		fail("invalid_request", "code_challenge must be 43 base64url characters (S256)")
		return
	}
	t := &txn{
		id:          randomToken(32),
		clientID:    client.ID,
		redirectURI: redirect,
		state:       state,
		nonce:       q.Get("nonce"),
		audience:    aud,
		challenge:   challenge,
		scopes:      p.d.grantedScopes(q.Get("scope")),
		created:     s.Now(),
	}
	p.mu.Lock()
	p.pruneLocked(t.created)
	p.txns[t.id] = t
	p.mu.Unlock()
	s.render(w, http.StatusOK, "login.html", loginPage{
		Provider: p.name, Vendor: p.d.vendor, Title: "Log in", Action: "/" + p.name + "/u/login", Txn: t.id,
		ClientName: client.Name, Accounts: p.d.loginAccounts(),
	})
}

// pruneLocked forgets expired login transactions and codes.
func (p *provider) pruneLocked(now time.Time) {
	for id, t := range p.txns {
		if now.Sub(t.created) > txnTTL {
			delete(p.txns, id)
		}
	}
	for c, ac := range p.codes {
		if now.After(ac.expires.Add(time.Hour)) {
			delete(p.codes, c)
		}
	}
}

func (p *provider) lookupTxn(id string, now time.Time) (*txn, Client, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.txns[id]
	if t == nil || now.Sub(t.created) > txnTTL {
		return nil, Client{}, false
	}
	return t, p.clients[t.clientID], true
}

// handleLogin checks the credentials posted from the login page and shows
// the consent page.
func (s *Server) handleLogin(p *provider, w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderMessage(w, http.StatusBadRequest, p.name, "Invalid request", "The login form could not be read.", "")
		return
	}
	t, client, ok := p.lookupTxn(r.PostForm.Get("txn"), s.Now())
	if !ok {
		s.renderMessage(w, http.StatusBadRequest, p.name, "Session expired", "Your login session has expired or is unknown. Start again from the application.", "")
		return
	}
	user := r.PostForm.Get("username")
	acct, found := p.d.findAccount(user)
	if !found || subtle.ConstantTimeCompare([]byte(acct.Password), []byte(r.PostForm.Get("password"))) != 1 {
		s.log.Info("sandbox login refused", "provider", p.name, "username", user)
		s.render(w, http.StatusOK, "login.html", loginPage{
			Provider: p.name, Vendor: p.d.vendor, Title: "Log in", Action: "/" + p.name + "/u/login", Txn: t.id,
			ClientName: client.Name, Username: user, Error: "Wrong email or password.", Accounts: p.d.loginAccounts(),
		})
		return
	}
	if p.d.partnerOnly && acct.Kind != KindPartner {
		s.renderMessage(w, http.StatusForbidden, p.name, "Partner account required",
			"Your Vendor Portal account cannot be used to test the delegation flow. Only Pax8 Partner accounts will work.",
			"Log in with a partner account, in a new browser or private window.")
		return
	}
	p.mu.Lock()
	t.account = &acct
	p.mu.Unlock()
	var scopes []scopeInfo
	for _, sc := range p.d.scopes {
		if slices.Contains(t.scopes, sc.Name) {
			scopes = append(scopes, sc)
		}
	}
	s.render(w, http.StatusOK, "consent.html", consentPage{
		Provider: p.name, Vendor: p.d.vendor, Title: "Authorize", Action: "/" + p.name + "/u/consent", Txn: t.id,
		ClientName: client.Name, AccountName: acct.Name, Company: acct.Company, Scopes: scopes,
	})
}

// handleConsent ends the transaction: Allow issues a code, Deny answers
// access_denied, both at the client's redirect_uri.
func (s *Server) handleConsent(p *provider, w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderMessage(w, http.StatusBadRequest, p.name, "Invalid request", "The consent form could not be read.", "")
		return
	}
	now := s.Now()
	p.mu.Lock()
	t := p.txns[r.PostForm.Get("txn")]
	if t == nil || t.account == nil || now.Sub(t.created) > txnTTL {
		p.mu.Unlock()
		s.renderMessage(w, http.StatusBadRequest, p.name, "Session expired", "Your login session has expired or is unknown. Start again from the application.", "")
		return
	}
	delete(p.txns, t.id) // single use
	settings := p.settings
	var code string
	if r.PostForm.Get("decision") == "allow" {
		code = randomToken(32)
		p.codes[code] = &authCode{
			clientID: t.clientID, redirectURI: t.redirectURI, nonce: t.nonce, audience: t.audience,
			challenge: t.challenge, scopes: t.scopes, subject: t.account.Subject,
			authTime: now, expires: now.Add(codeTTL),
		}
	}
	p.mu.Unlock()
	if code == "" {
		s.redirectResult(p, w, r, settings, t.redirectURI, url.Values{"error": {"access_denied"}, "error_description": {"User did not authorize the request"}}, t.state)
		return
	}
	s.redirectResult(p, w, r, settings, t.redirectURI, url.Values{"code": {code}}, t.state)
}

// redirectResult sends the authorization response to the client's
// redirect_uri, with state and, under SendIss, the RFC 9207 iss parameter.
func (s *Server) redirectResult(p *provider, w http.ResponseWriter, r *http.Request, st Settings, redirect string, v url.Values, state string) {
	if state != "" {
		v.Set("state", state)
	}
	sendIss := st.SendIss
	iss := s.Issuer(p.name)
	if f, ok := s.faults.take(p.name, endpointAuthorize, "", func(k string) bool { return k == "iss_mismatch" || k == "iss_missing" }); ok {
		switch f.Kind {
		case "iss_mismatch":
			sendIss, iss = true, s.baseURL()+"/evil-"+p.name+"/"
		case "iss_missing":
			sendIss = false
		}
	}
	if sendIss {
		v.Set("iss", iss)
	}
	u := redirect
	if enc := v.Encode(); enc != "" {
		if pu, err := url.Parse(redirect); err == nil && pu.RawQuery != "" {
			u += "&" + enc
		} else {
			u += "?" + enc
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u, http.StatusFound)
}

// sleepCtx waits d or until ctx is done, reporting whether it waited fully.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pageFault applies a generic fault to an HTML endpoint. It reports whether
// the response was written.
func (s *Server) pageFault(p *provider, w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.Kind {
	case "slow":
		return !sleepCtx(r.Context(), f.Delay)
	case "rate_limited":
		w.Header().Set("Retry-After", "1")
		s.renderMessage(w, http.StatusTooManyRequests, p.name, "Too many requests", "Too many requests. Try again later.", "sandbox fault rate_limited")
	case "server_error":
		s.renderMessage(w, statusOr(f.Status, http.StatusInternalServerError), p.name, "Server error", "Something went wrong.", "sandbox fault server_error")
	case "html":
		s.renderMessage(w, statusOr(f.Status, http.StatusBadGateway), p.name, "Bad gateway", "The server returned an unexpected page.", "sandbox fault html")
	case kindOutage:
		s.renderMessage(w, statusOr(f.Status, http.StatusServiceUnavailable), p.name, "Service unavailable", "The service is temporarily unavailable. Try again later.", "sandbox outage")
	default:
		return false
	}
	return true
}

func statusOr(status, def int) int {
	if status != 0 {
		return status
	}
	return def
}
