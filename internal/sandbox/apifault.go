package sandbox

import (
	"io"
	"net/http"
)

// apiErrorWriter writes a personality's API error shape: an HTTP status, a
// Pax8-style type code and a message.
type apiErrorWriter func(w http.ResponseWriter, r *http.Request, status int, typ, msg string)

// apiFault applies a fault taken for an emulated API. It reports whether it
// wrote the response (or the client went away during a "slow" fault), in
// which case the handler must stop. malformed is the truncated body of the
// "malformed" fault.
func apiFault(w http.ResponseWriter, r *http.Request, f Fault, writeErr apiErrorWriter, malformed string) bool {
	switch f.Kind {
	case "slow":
		return !sleepCtx(r.Context(), f.Delay)
	case "server_error":
		writeErr(w, r, statusOr(f.Status, http.StatusInternalServerError), "INTERNAL_SERVER_ERROR", "An unexpected error occurred")
	case "rate_limited":
		w.Header().Set("Retry-After", "1")
		writeErr(w, r, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Rate limit exceeded")
	case "malformed":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, malformed)
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(statusOr(f.Status, http.StatusBadGateway))
		io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>\n")
	case kindOutage:
		writeErr(w, r, statusOr(f.Status, http.StatusServiceUnavailable), "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
	case "unauthorized":
		writeErr(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "No valid API key provided")
	default:
		return false
	}
	return true
}
