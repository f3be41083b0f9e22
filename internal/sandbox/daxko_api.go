package sandbox

import (
	"net/http"
	"strconv"
	"strings"
)

// daxkoError writes the error shape of Daxko's cart responses,
// {"errors":[{"message"}]} (provider-facts §4; no global error envelope is
// documented).
func daxkoError(w http.ResponseWriter, _ *http.Request, status int, _, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"message": msg}}})
}

// daxkoAPI serves the emulated Daxko Operations API under /daxko/v3/: a
// client-scoped access token from the partner token endpoint, unexpired
// (401 once expired, seeds/004), is required; the partner refresh token is
// refused ("can only be used for the /v3/partners/oauth2/token endpoint").
// Data of another Daxko client than the token's is 403. Every response is
// counted by status; faults for endpoint "api" apply.
//
// Routes: GET /v3/units/{unit_id}.
func (s *Server) daxkoAPI(p *provider) http.Handler {
	prefix := "/" + p.name + "/v3/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if rec.status != 0 {
				p.countAPI(rec.status)
			}
		}()
		if f, ok := s.faults.take(p.name, endpointAPI, "", nil); ok && apiFault(rec, r, f, daxkoError, `{"id":`) {
			return
		}
		claims, err := s.verifyAccess(p, r)
		if err != nil {
			daxkoError(rec, r, http.StatusUnauthorized, "", "Unauthorized")
			return
		}
		client, _ := claims["client_id"].(float64)
		if s.settings(p.name).RateLimited {
			rec.Header().Set("Retry-After", "1")
			daxkoError(rec, r, http.StatusTooManyRequests, "", "Too Many Requests")
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, prefix)
		idStr, ok := strings.CutPrefix(rest, "units/")
		if !ok || strings.Contains(idStr, "/") {
			daxkoError(rec, r, http.StatusNotFound, "", "Not Found")
			return
		}
		if r.Method != http.MethodGet {
			rec.Header().Set("Allow", http.MethodGet)
			daxkoError(rec, r, http.StatusMethodNotAllowed, "", "Method Not Allowed")
			return
		}
		id, err := strconv.Atoi(idStr)
		if err != nil {
			daxkoError(rec, r, http.StatusNotFound, "", "Not Found")
			return
		}
		for owner, units := range daxkoClients {
			for _, u := range units {
				if u.ID != id {
					continue
				}
				if owner != int(client) {
					daxkoError(rec, r, http.StatusForbidden, "", "the access token is not scoped to the client of unit "+idStr)
					return
				}
				writeJSON(rec, http.StatusOK, u)
				return
			}
		}
		daxkoError(rec, r, http.StatusNotFound, "", "Not Found")
	})
}
