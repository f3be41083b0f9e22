package sandbox

import (
	"net/http"
	"slices"
	"strings"

	"github.com/grantd/grantd/internal/sandbox/pax8api"
)

// statusRecorder remembers the status written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// pax8Error writes Pax8's API error shape (provider-facts §1.1: instance is
// the gateway path /public/v1/...).
func pax8Error(w http.ResponseWriter, r *http.Request, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{
		"type":     typ,
		"message":  msg,
		"instance": apiInstance(r),
		"status":   status,
		"details":  []any{},
	})
}

// pax8FaultError is pax8Error with Pax8's wording for a 429.
func pax8FaultError(w http.ResponseWriter, r *http.Request, status int, typ, msg string) {
	if status == http.StatusTooManyRequests {
		msg = pax8TooMany
	}
	pax8Error(w, r, status, typ, msg)
}

func apiInstance(r *http.Request) string {
	path := r.URL.Path
	if i := strings.Index(path, "-api/v1"); i >= 0 {
		path = path[i+len("-api/v1"):]
	}
	return "/public/v1" + path
}

// apiAuth guards the emulated partner API: a valid bearer access token for
// the Pax8 API audience with Manage:Pax8Data (or a partner
// client-credentials token), then the partner identity in the context.
// Every response is counted by status.
func (s *Server) apiAuth(p *provider, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if rec.status != 0 {
				p.countAPI(rec.status)
			}
		}()
		if f, ok := s.faults.take(p.name, endpointAPI, "", notAfterWrite); ok && apiFault(rec, r, f, pax8FaultError, `{"content":[{"id":`) {
			return
		}
		claims, err := s.verifyAccess(p, r)
		if err != nil {
			pax8Error(rec, r, http.StatusUnauthorized, "UNAUTHORIZED", "No valid API key provided")
			return
		}
		aud := audiences(claims)
		partnerAud := slices.Contains(aud, audAPI) || slices.Contains(aud, audLegacy)
		gty, _ := claims["gty"].(string)
		if !partnerAud || (gty != "client-credentials" && !hasScope(claims, scopeManage)) {
			pax8Error(rec, r, http.StatusForbidden, "FORBIDDEN", "Access to this resource is forbidden for this token")
			return
		}
		st := s.settings(p.name)
		if st.RateLimited {
			rec.Header().Set("Retry-After", "1")
		}
		if st.RateLimited || s.apiLimited(p, rec, st) {
			pax8Error(rec, r, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", pax8TooMany)
			return
		}
		sub, _ := claims["sub"].(string)
		r = r.WithContext(pax8api.WithPartner(r.Context(), sub))
		if pax8Write(r) {
			if f, ok := s.faults.take(p.name, endpointAPI, "", isAfterWrite); ok {
				loseAnswer(rec, r, f, next)
				return
			}
		}
		next.ServeHTTP(rec, r)
	})
}
