package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grantd/grantd/connectresult"
	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

// doneCookie remembers, for a few minutes, which authorization this
// browser completed, so a reload of the callback URL shows the success
// page again instead of an invalid_state error. Its value is
// stateTag "." done-page query; the query is signed, so a forged cookie
// leads to nothing but an error page.
const doneCookie = "grantd_done"

// donePageMaxAge bounds how long the success page can be reloaded.
const donePageMaxAge = 24 * time.Hour

// successPage is the data of the success template.
type successPage struct {
	Product    string
	Provider   string
	Connection store.Connection
	// Reauthorized is set when an existing connection got a new grant.
	Reauthorized bool
}

// callback is GET /oauth/callback/{integration}: the provider sends the
// browser back here with the code (or an error). Whatever happens, the
// response has Referrer-Policy: no-referrer and Cache-Control: no-store,
// loads nothing from third parties, and the code goes nowhere else
// (SEC-10).
//
// On success the browser goes to the session's return_to with the signed
// result (package connectresult), or, without one, to the success page
// (POST-redirect-GET, so a reload shows it again). On failure the error
// page links back to return_to with the signed failure.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("Referrer-Policy", "no-referrer")
	secret := ""
	if c, err := r.Cookie(FlowCookie); err == nil {
		secret = c.Value
	}
	q := r.URL.Query()
	res, err := h.broker.Callback(r.Context(), r.PathValue("integration"), q, secret)
	if err != nil {
		if broker.CodeOf(err) == broker.CodeInvalidState {
			if done := h.completed(r, q.Get("state")); done != "" {
				http.Redirect(w, r, done, http.StatusSeeOther)
				return
			}
		}
		h.failBack(w, r, err, h.broker.ResultURL(res, err))
		return
	}
	done := "/oauth/done?" + h.doneQuery(res).Encode()
	http.SetCookie(w, &http.Cookie{
		Name:     doneCookie,
		Value:    stateTag(q.Get("state")) + "." + base64.RawURLEncoding.EncodeToString([]byte(done)),
		Path:     "/oauth/",
		MaxAge:   int(flowCookieTTL / time.Second),
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	})
	if u := h.broker.ResultURL(res, nil); u != "" {
		// The allow-listed URL from the link with grantd's signed result:
		// nothing from the authorization response is carried over.
		http.Redirect(w, r, u, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, done, http.StatusSeeOther)
}

// doneQuery is the success page's query: the signed result plus the
// tenant whose key signed it.
func (h *Handler) doneQuery(res broker.Connected) url.Values {
	o := connectresult.Connected
	if res.Reauthorized {
		o = connectresult.Reauthorized
	}
	v := connectresult.Sign(h.broker.ResultKey(res.TenantID), connectresult.Result{
		Outcome: o, ConnectionID: res.ConnectionID, SessionID: res.SessionID, IssuedAt: time.Now(),
	})
	v.Set("tenant", res.TenantID)
	return v
}

// completed returns the success page this browser was sent to for state,
// or "".
func (h *Handler) completed(r *http.Request, state string) string {
	c, err := r.Cookie(doneCookie)
	if err != nil || state == "" {
		return ""
	}
	tag, enc, ok := strings.Cut(c.Value, ".")
	if !ok || tag != stateTag(state) {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !strings.HasPrefix(string(b), "/oauth/done?") {
		return ""
	}
	return string(b)
}

// stateTag names a state without revealing it.
func stateTag(state string) string {
	s := sha256.Sum256([]byte("grantd done " + state))
	return base64.RawURLEncoding.EncodeToString(s[:12])
}

// done is GET /oauth/done: the success page. Its query is a signed
// result, so it shows only a connection the callback completed, and only
// to whoever holds that URL; it changes nothing, so a reload is harmless.
func (h *Handler) done(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	tenant := q.Get("tenant")
	vf := &connectresult.Verifier{
		Key: h.broker.ResultKey(tenant), MaxAge: donePageMaxAge,
		Seen: func(string) bool { return false }, // a reload is expected
	}
	res, err := vf.Verify(q)
	if tenant == "" || err != nil || (res.Outcome != connectresult.Connected && res.Outcome != connectresult.Reauthorized) {
		h.page(w, r, http.StatusNotFound, "error", errorPage{Title: titles[http.StatusNotFound], Message: "There is no page at this address."})
		return
	}
	c, err := h.broker.Connection(r.Context(), tenant, res.ConnectionID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name := c.Provider
	if p, ok := h.broker.Providers().Get(c.Provider); ok {
		name = p.DisplayName
	}
	h.page(w, r, http.StatusOK, "success", successPage{Product: h.name, Provider: name, Connection: c, Reauthorized: res.Outcome == connectresult.Reauthorized})
}
