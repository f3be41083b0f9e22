package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

const (
	// sessionCookie holds the random session value; the store keeps only
	// its SHA-256.
	sessionCookie = "grantd_console"
	// preCookie holds the sign-in form's CSRF value before a session
	// exists (double submit).
	preCookie = "grantd_console_pre"
	// csrfField is the form field every POST carries.
	csrfField = "csrf"
)

// viewer is who a request is signed in as: the operator (Admin) or one
// tenant.
type viewer struct {
	Admin    bool
	TenantID string
	// CSRF is the session's form token.
	CSRF string
}

// scope is the tenant filter of the viewer's reads: "" for the operator.
func (v viewer) scope() string {
	if v.Admin {
		return ""
	}
	return v.TenantID
}

// owns reports whether the viewer may see an object of tenantID.
func (v viewer) owns(tenantID string) bool { return v.Admin || v.TenantID == tenantID }

// handlerFunc is a console page: it returns an error for the one adapter.
type handlerFunc func(w http.ResponseWriter, r *http.Request, v viewer) error

// auth resolves the session; without a live one a GET goes to the sign-in
// page and anything else gets 403. Every POST must carry the session's
// CSRF token (403 otherwise, before the page runs).
func (c *Console) auth(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := c.session(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
				return
			}
			c.fail(w, r, errForbidden)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				c.fail(w, r, errBadForm)
				return
			}
			if !equal(r.PostForm.Get(csrfField), v.CSRF) {
				c.fail(w, r, errForbidden)
				return
			}
		}
		if err := h(w, r, v); err != nil {
			c.fail(w, r, err)
		}
	})
}

// session returns the viewer of r's session cookie, if it names a live
// session.
func (c *Console) session(r *http.Request) (viewer, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || len(ck.Value) != 43 {
		return viewer{}, false
	}
	s, err := c.opts.Store.GetConsoleSession(r.Context(), hashValue(ck.Value))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.ErrorContext(r.Context(), "read console session", "err", err)
		}
		return viewer{}, false
	}
	if !c.now().Before(s.ExpiresAt) {
		return viewer{}, false
	}
	return viewer{Admin: s.Admin, TenantID: s.TenantID, CSRF: csrfToken(ck.Value)}, true
}

type signInData struct {
	CSRF  string
	Error string
}

// signInPage shows the sign-in form with a fresh pre-session CSRF value.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "signin", viewer{}, "Sign in", signInData{CSRF: c.preToken(w)})
}

// preToken sets a fresh pre-session cookie and returns its value, which
// the sign-in form echoes.
func (c *Console) preToken(w http.ResponseWriter) string {
	v := randomValue()
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: v, Path: "/console/", HttpOnly: true,
		Secure: c.opts.Secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return v
}

// signIn checks the key: the admin key signs in as the operator, a tenant
// API key (checked as the API checks it, by its SHA-256) as its tenant.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, errBadForm)
		return
	}
	pre, err := r.Cookie(preCookie)
	if err != nil || pre.Value == "" || !equal(r.PostForm.Get(csrfField), pre.Value) {
		c.fail(w, r, errForbidden)
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	s := store.ConsoleSession{CreatedAt: c.now().UTC()}
	s.ExpiresAt = s.CreatedAt.Add(c.opts.SessionTTL)
	switch {
	case key != "" && c.opts.AdminKey != "" && equal(key, c.opts.AdminKey):
		s.Admin = true
	case tenant.LooksLikeKey(key):
		k, err := c.opts.Store.GetAPIKeyByHash(r.Context(), tenant.HashKey(key))
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				c.fail(w, r, err)
				return
			}
			break
		}
		s.TenantID = k.TenantID
	}
	if !s.Admin && s.TenantID == "" {
		c.log.InfoContext(r.Context(), "console sign-in refused")
		c.render(w, r, http.StatusUnauthorized, "signin", viewer{}, "Sign in",
			signInData{CSRF: c.preToken(w), Error: "That key is not valid. Use the admin key or a tenant API key."})
		return
	}
	value := randomValue()
	s.ID = hashValue(value)
	if err := c.opts.Store.CreateConsoleSession(r.Context(), s); err != nil {
		c.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: preCookie, Path: "/console/", MaxAge: -1, HttpOnly: true, Secure: c.opts.Secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/console/", HttpOnly: true,
		Secure: c.opts.Secure, SameSite: http.SameSiteStrictMode, Expires: s.ExpiresAt})
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// signOut deletes the session and its cookie.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request, _ viewer) error {
	ck, _ := r.Cookie(sessionCookie)
	if err := c.opts.Store.DeleteConsoleSession(r.Context(), hashValue(ck.Value), c.now()); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/console/", MaxAge: -1, HttpOnly: true, Secure: c.opts.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return nil
}

// randomValue returns 256 random bits, base64url without padding (43
// characters).
func randomValue() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashValue(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

// csrfToken derives the session's form token from its cookie value, so
// it needs no storage and changes with every sign-in.
func csrfToken(value string) string {
	m := hmac.New(sha256.New, []byte(value))
	m.Write([]byte("grantd console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// equal compares secrets in constant time (for equal lengths).
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1 && a != ""
}
