package sandbox

import (
	"net/http"
	"slices"
	"strings"
)

// paxfulOperation answers one RPC-style Paxful API operation for the
// account with the given subject. It returns the envelope's data.
type paxfulOperation func(s *Server, p *provider, subject string, r *http.Request) any

// paxfulOperations are the emulated operations, keyed by their path under
// /paxful/v1/ (provider-facts §3 "API call convention"). Each needs the
// scope of the same name, prefixed with paxful/v1/.
var paxfulOperations = map[string]paxfulOperation{
	"user/me":   paxfulUserMe,
	"offer/all": paxfulOfferAll,
}

// paxfulEnvelope writes Paxful's response envelope (provider-facts §3):
// {"status":"success","timestamp":…,"data":…}.
func (s *Server) paxfulEnvelope(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "timestamp": s.Now().Unix(), "data": data})
}

// paxfulError returns the error writer of the paxful API, which writes
// {"status":"error","timestamp":…,"error":{"code":<status>,"message":…}}
// with the HTTP status itself: seeds/003 documents 401 for an expired
// token and 403 for a missing scope, although the legacy API answered 200
// to everything.
func (s *Server) paxfulError() apiErrorWriter {
	return func(w http.ResponseWriter, _ *http.Request, status int, _, msg string) {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		writeJSON(w, status, map[string]any{
			"status": "error", "timestamp": s.Now().Unix(),
			"error": map[string]any{"code": status, "message": msg},
		})
	}
}

// paxfulAPI serves the emulated API gateway at /paxful-api/: POST
// /paxful/v1/<group>/<action> with a bearer access token issued by the
// paxful personality for the gateway, unexpired (401 otherwise) and
// holding the operation's scope (403 otherwise; seeds/003). Every response
// is counted by status; faults for endpoint "api" apply.
func (s *Server) paxfulAPI(p *provider) http.Handler {
	prefix := "/" + p.name + "-api/paxful/v1/"
	fail := s.paxfulError()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if rec.status != 0 {
				p.countAPI(rec.status)
			}
		}()
		if f, ok := s.faults.take(p.name, endpointAPI, "", nil); ok && apiFault(rec, r, f, fail, `{"status":"success","data":{`) {
			return
		}
		op, found := strings.CutPrefix(r.URL.Path, prefix)
		handler := paxfulOperations[op]
		if !found || handler == nil {
			fail(rec, r, http.StatusNotFound, "", "Not Found")
			return
		}
		if r.Method != http.MethodPost {
			rec.Header().Set("Allow", http.MethodPost)
			fail(rec, r, http.StatusMethodNotAllowed, "", "Method Not Allowed")
			return
		}
		claims, err := s.verifyAccess(p, r)
		if err != nil || !slices.Contains(audiences(claims), s.Endpoints(p.name).APIBaseURL) {
			fail(rec, r, http.StatusUnauthorized, "", "Unauthorized")
			return
		}
		if !hasScope(claims, "paxful/v1/"+op) {
			fail(rec, r, http.StatusForbidden, "", "Forbidden: the token was not granted paxful/v1/"+op)
			return
		}
		if s.settings(p.name).RateLimited {
			rec.Header().Set("Retry-After", "1")
			fail(rec, r, http.StatusTooManyRequests, "", "Too Many Requests")
			return
		}
		sub, _ := claims["sub"].(string)
		s.paxfulEnvelope(rec, handler(s, p, sub, r))
	})
}

// paxfulUserMe is POST /paxful/v1/user/me: the account's own profile
// [inferred field names, after the SDK's profile].
func paxfulUserMe(_ *Server, p *provider, subject string, _ *http.Request) any {
	acct, _ := p.d.accountBySubject(subject)
	pr := paxfulProfiles[subject]
	return map[string]any{
		"username":   pr.Nickname,
		"first_name": pr.GivenName,
		"last_name":  pr.FamilyName,
		"email":      acct.Username,
		"locale":     pr.Locale,
		"avatar_url": pr.Picture,
	}
}

// paxfulOfferAll is POST /paxful/v1/offer/all: a fixed page of offers.
func paxfulOfferAll(_ *Server, _ *provider, _ string, _ *http.Request) any {
	offers := []map[string]any{
		{"offer_hash": "Agq1Bpw7oX9", "offer_type": "sell", "currency_code": "USD", "fiat_price_per_btc": 64250.5, "payment_method_name": "Bank Transfer", "offer_owner_username": "VanyaSells"},
		{"offer_hash": "Lm3Rt8Ws2Qa", "offer_type": "buy", "currency_code": "EUR", "fiat_price_per_btc": 59010.0, "payment_method_name": "SEPA", "offer_owner_username": "TariqTrades"},
	}
	return map[string]any{"count": len(offers), "totalCount": len(offers), "offers": offers}
}
