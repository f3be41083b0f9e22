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
		f, faulted := s.faults.take(p.name, endpointAPI, "", func(kind string) bool {
			return kind != kindLostAfterWrite || isWrite(r.Method)
		})
		if faulted && apiFault(rec, r, f, pax8Error, `{"content":[{"id":`) {
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
		if s.settings(p.name).RateLimited {
			rec.Header().Set("Retry-After", "1")
			pax8Error(rec, r, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Rate limit exceeded")
			return
		}
		sub, _ := claims["sub"].(string)
		r = r.WithContext(pax8api.WithPartner(r.Context(), sub))
		if faulted && f.Kind == kindLostAfterWrite {
			loseAfterWrite(rec, r, next, f)
			return
		}
		next.ServeHTTP(rec, r)
	})
}
