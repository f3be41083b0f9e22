package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// FlowCookie binds an authorization to the browser that started it. Its
// value is a secret; only its hash is stored with the session.
const FlowCookie = "grantd_flow"

// flowCookieTTL matches the broker's default session lifetime.
const flowCookieTTL = 10 * time.Minute

// connectPage is the data of the connect template.
type connectPage struct {
	Token       string
	Product     string
	Provider    provider.Provider
	Integration store.Integration
	Scopes      []scopeText
	Existing    *store.Connection
}

// NeedsReauth reports whether the existing connection must be authorized
// again.
func (p connectPage) NeedsReauth() bool {
	return p.Existing != nil && p.Existing.Status == store.StatusNeedsReauth
}

// connectPage is GET /connect/{token}: what the integration is and the
// button that starts it. It changes nothing.
func (h *Handler) connectPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token := r.PathValue("token")
	lp, err := h.broker.Link(r.Context(), token)
	if err != nil {
		h.failBack(w, r, err, h.linkBack(lp.Link, err))
		return
	}
	w.Header().Set("Content-Security-Policy", csp(origin(lp.Provider.AuthorizeURL)))
	h.page(w, r, http.StatusOK, "connect", connectPage{
		Token:       token,
		Product:     h.name,
		Provider:    lp.Provider,
		Integration: lp.Integration,
		Scopes:      describeScopes(lp.Integration.Scopes, lp.Provider.DisplayName),
		Existing:    lp.Existing,
	})
}

// start is POST /connect/{token}/start (same origin only): it binds a new
// authorization to this browser and sends it to the provider.
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	secret := h.flowSecret(w, r)
	target, err := h.broker.Start(r.Context(), r.PathValue("token"), secret)
	if err != nil {
		lp, _ := h.broker.Link(r.Context(), r.PathValue("token"))
		h.failBack(w, r, err, h.linkBack(lp.Link, err))
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// flowSecret returns the browser-binding secret from the grantd_flow
// cookie, creating the cookie when it is missing or malformed. The same
// value serves every flow the browser starts, so two tabs do not undo
// each other.
func (h *Handler) flowSecret(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(FlowCookie); err == nil && validSecret(c.Value) {
		return c.Value
	}
	var b [32]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{
		Name:     FlowCookie,
		Value:    v,
		Path:     "/",
		MaxAge:   int(flowCookieTTL / time.Second),
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	})
	return v
}

// validSecret accepts exactly what flowSecret makes: 32 bytes in unpadded
// base64url.
func validSecret(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// origin returns scheme://host of raw, or "" when raw is not absolute.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// linkBack is the way back to the application from a failed link page:
// the link's return_to with the signed failure (its session id is the
// link's), or "" when the link is unknown or has no return_to.
func (h *Handler) linkBack(l store.ConnectLink, err error) string {
	return h.broker.ResultURL(broker.Connected{
		ReturnTo: l.ReturnTo, TenantID: l.TenantID, SessionID: l.ID, ConnectionID: l.ConnectionID,
	}, err)
}
