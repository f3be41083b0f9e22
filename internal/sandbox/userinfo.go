package sandbox

import (
	"io"
	"net/http"
	"slices"
	"strings"
)

// userinfoUpdatedAt is the fixed profile update time of the demo accounts.
const userinfoUpdatedAt = "2026-01-05T09:30:00.000Z"

// handleUserinfo is the OIDC UserInfo endpoint (OIDC Core §5.3). It needs
// an access token whose audience includes the userinfo URL, as Auth0's do
// when openid was granted.
func (s *Server) handleUserinfo(p *provider, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p.countUserinfo()
	otherSub := false
	if f, ok := s.faults.take(p.name, endpointUserinfo, "", nil); ok {
		switch f.Kind {
		case "slow":
			if !sleepCtx(r.Context(), f.Delay) {
				return
			}
		case "server_error":
			writeJSON(w, statusOr(f.Status, http.StatusInternalServerError), map[string]string{"error": "server_error", "error_description": "sandbox fault"})
			return
		case "rate_limited":
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too_many_requests", "error_description": "sandbox fault"})
			return
		case "malformed":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"sub":`)
			return
		case "html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(statusOr(f.Status, http.StatusBadGateway))
			io.WriteString(w, "<html><body><h1>Bad Gateway</h1></body></html>\n")
			return
		case "unauthorized":
			unauthorizedUserinfo(w)
			return
		case kindOutage:
			writeTokenError(w, errOutage(f))
			return
		case "userinfo_other_sub":
			otherSub = true
		}
	}
	claims, err := s.verifyAccess(p, r)
	if err != nil || !slices.Contains(audiences(claims), s.Endpoints(p.name).UserinfoURL) {
		unauthorizedUserinfo(w)
		return
	}
	sub, _ := claims["sub"].(string)
	out := map[string]any{"sub": sub}
	if acct, ok := p.d.accountBySubject(sub); ok {
		scope, _ := claims["scope"].(string)
		p.d.profile(acct, strings.Fields(scope), true, out)
	}
	if otherSub { // OIDC-17
		out["sub"] = "auth0|someone-else"
	}
	writeJSON(w, http.StatusOK, out)
}

func unauthorizedUserinfo(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Unauthorized"})
}
