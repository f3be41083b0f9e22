package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/pax8"
)

// Register adds the action routes to s:
//
//	GET  /v1/actions                              the catalogue, with schemas
//	POST /v1/connections/{id}/actions/{name}      JSON in, {"result": …} out
func Register(s *api.Server, r *Runner) {
	s.Handle("GET /v1/actions", serveCatalogue)
	s.Handle("POST /v1/connections/{id}/actions/{name}", r.serveRun)
}

var catalogueJSON = func() []byte {
	b, err := json.Marshal(map[string]any{"actions": catalogue})
	if err != nil {
		panic(fmt.Sprintf("action: encode catalogue: %v", err))
	}
	return append(b, '\n')
}()

func serveCatalogue(w http.ResponseWriter, r *http.Request) error {
	return httpapi.WriteRaw(w, http.StatusOK, catalogueJSON)
}

func (rn *Runner) serveRun(w http.ResponseWriter, r *http.Request) error {
	tenantID, _ := api.TenantFrom(r.Context())
	name := r.PathValue("name")
	if _, ok := Lookup(name); !ok {
		return &httpapi.Error{Code: httpapi.CodeUnknownAction, Message: fmt.Sprintf("no action named %q; GET /v1/actions lists them", name)}
	}
	if err := httpapi.RequireJSON(r); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInput))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return inputError(&InputError{Msg: fmt.Sprintf("the input is larger than %d bytes", maxInput)})
		}
		return &httpapi.Error{Code: httpapi.CodeInvalidRequest, Message: "the request body could not be read", Err: err}
	}
	ans, err := rn.RunKeyed(r.Context(), tenantID, r.PathValue("id"), name, r.Header.Get("Idempotency-Key"), body)
	if err != nil {
		return runError(w, err)
	}
	httpapi.NoStore(w)
	if ans.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return httpapi.WriteRaw(w, ans.Status, ans.Body)
}

// upstreamJSON is Pax8's error body as the caller sees it, in the error's
// "upstream" member.
type upstreamJSON struct {
	Status  int    `json:"status"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message,omitempty"`
	// Instance is the gateway path Pax8 names in its error body.
	Instance string `json:"instance,omitempty"`
	// RequestID is the gateway's id for the request, for Pax8 support.
	RequestID string             `json:"request_id,omitempty"`
	Details   []pax8.ErrorDetail `json:"details,omitempty"`
}

// inputError is the 400 invalid_input for e, naming its field.
func inputError(e *InputError) error {
	return &httpapi.Error{Code: httpapi.CodeInvalidInput, Message: e.Error(), Field: e.Field}
}

// upstreamStatus maps Pax8's status to the caller's: client errors keep
// their status, except 401 (after a forced refresh, the grant itself is
// refused: that is grantd's upstream failing, not the caller's key); the
// rest is 502.
func upstreamStatus(s int) (int, httpapi.Code) {
	switch s {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusConflict:
		return s, httpapi.CodeUpstreamRejected
	case http.StatusNotFound:
		return s, httpapi.CodeUpstreamNotFound
	case http.StatusForbidden:
		return s, httpapi.CodeUpstreamForbidden
	case http.StatusTooManyRequests:
		return s, httpapi.CodeUpstreamRateLimited
	case http.StatusUnauthorized:
		return http.StatusBadGateway, httpapi.CodeUpstreamUnauthorized
	}
	return http.StatusBadGateway, httpapi.CodeUpstream
}

// runError is the error response for a failed [Runner.Run]: Pax8's answers
// carry its error in "upstream" (and its Retry-After); the rest are the
// API's codes.
func runError(w http.ResponseWriter, err error) error {
	if ie, ok := errors.AsType[*InputError](err); ok {
		return inputError(ie)
	}
	if pe, ok := errors.AsType[*pax8.Error](err); ok {
		status, code := upstreamStatus(pe.Status)
		msg := fmt.Sprintf("Pax8 answered %d", pe.Status)
		if pe.Message != "" {
			msg += ": " + pe.Message
		}
		if pe.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((pe.RetryAfter+999_999_999)/1e9)))
		}
		return &httpapi.Error{Status: status, Code: code, Message: msg, Err: err,
			Upstream: &upstreamJSON{Status: pe.Status, Type: pe.Type, Message: pe.Message,
				Instance: pe.Instance, RequestID: pe.RequestID, Details: pe.Details}}
	}
	if errors.Is(err, ErrKeyReused) {
		return &httpapi.Error{Code: httpapi.CodeIdempotencyKeyReused, Field: "idempotency_key",
			Message: "this Idempotency-Key was used with another request (action, input or connection); use a new key"}
	}
	if errors.Is(err, ErrKeyInFlight) {
		w.Header().Set("Retry-After", "1")
		return &httpapi.Error{Code: httpapi.CodeIdempotencyKeyInUse, Field: "idempotency_key",
			Message: "a request with this Idempotency-Key is still running; retry later"}
	}
	if errors.Is(err, ErrUnknownAction) {
		return &httpapi.Error{Code: httpapi.CodeUnknownAction, Message: "no such action", Err: err}
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		return &httpapi.Error{Code: httpapi.CodeUpstreamTimeout, Err: err}
	}
	if isBroker(err) || errors.Is(err, context.Canceled) {
		return err
	}
	return &httpapi.Error{Code: httpapi.CodeUpstream, Err: err}
}
