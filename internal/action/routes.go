package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/grantd/grantd/internal/api"
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
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(catalogueJSON)
	return err
}

func (rn *Runner) serveRun(w http.ResponseWriter, r *http.Request) error {
	tenantID, _ := api.TenantFrom(r.Context())
	name := r.PathValue("name")
	if _, ok := Lookup(name); !ok {
		return &api.Error{Status: http.StatusNotFound, Code: "unknown_action", Msg: fmt.Sprintf("no action named %q; GET /v1/actions lists them", name)}
	}
	if err := api.RequireJSON(r); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInput))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return writeInputError(w, &InputError{Msg: fmt.Sprintf("the input is larger than %d bytes", maxInput)})
		}
		return &api.Error{Status: http.StatusBadRequest, Code: "invalid_request", Msg: "the request body could not be read", Err: err}
	}
	res, err := rn.Run(r.Context(), tenantID, r.PathValue("id"), name, body)
	if err != nil {
		return rn.writeError(w, r, name, err)
	}
	b, err := json.Marshal(struct {
		Result any `json:"result"`
	}{res})
	if err != nil {
		return fmt.Errorf("encode %s result: %w", name, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(append(b, '\n'))
	return err
}

// errorBody is the API's error shape with the action's extras: the field
// of invalid input, and Pax8's own error for upstream failures.
type errorBody struct {
	Error struct {
		Code     string        `json:"code"`
		Message  string        `json:"message"`
		Field    string        `json:"field,omitempty"`
		Upstream *upstreamJSON `json:"upstream,omitempty"`
	} `json:"error"`
}

// upstreamJSON is Pax8's error body as the caller sees it.
type upstreamJSON struct {
	Status  int                `json:"status"`
	Type    string             `json:"type,omitempty"`
	Message string             `json:"message,omitempty"`
	Details []pax8.ErrorDetail `json:"details,omitempty"`
}

func writeBody(w http.ResponseWriter, status int, b errorBody) error {
	out, err := json.Marshal(b)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(out, '\n'))
	return err
}

func writeInputError(w http.ResponseWriter, e *InputError) error {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Field = "invalid_input", e.Error(), e.Field
	return writeBody(w, http.StatusBadRequest, b)
}

// upstreamStatus maps Pax8's status to the caller's: client errors keep
// their status, except 401 (after a forced refresh, the grant itself is
// refused: that is grantd's upstream failing, not the caller's key); the
// rest is 502.
func upstreamStatus(s int) (int, string) {
	switch s {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusConflict:
		return s, "upstream_rejected"
	case http.StatusNotFound:
		return s, "upstream_not_found"
	case http.StatusForbidden:
		return s, "upstream_forbidden"
	case http.StatusTooManyRequests:
		return s, "upstream_rate_limited"
	case http.StatusUnauthorized:
		return http.StatusBadGateway, "upstream_unauthorized"
	}
	return http.StatusBadGateway, "upstream_error"
}

func (rn *Runner) writeError(w http.ResponseWriter, r *http.Request, name string, err error) error {
	if ie, ok := errors.AsType[*InputError](err); ok {
		return writeInputError(w, ie)
	}
	if pe, ok := errors.AsType[*pax8.Error](err); ok {
		status, code := upstreamStatus(pe.Status)
		rn.log.LogAttrs(r.Context(), slog.LevelInfo, "action failed upstream",
			slog.String("action", name), slog.Int("upstream_status", pe.Status), slog.String("upstream_type", pe.Type))
		var b errorBody
		b.Error.Code = code
		b.Error.Message = fmt.Sprintf("Pax8 answered %d", pe.Status)
		if pe.Message != "" {
			b.Error.Message += ": " + pe.Message
		}
		b.Error.Upstream = &upstreamJSON{Status: pe.Status, Type: pe.Type, Message: pe.Message, Details: pe.Details}
		if pe.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((pe.RetryAfter+999_999_999)/1e9)))
		}
		return writeBody(w, status, b)
	}
	if errors.Is(err, ErrUnknownAction) {
		return &api.Error{Status: http.StatusNotFound, Code: "unknown_action", Msg: "no such action", Err: err}
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		return &api.Error{Status: http.StatusGatewayTimeout, Code: "upstream_timeout", Err: err}
	}
	if isBroker(err) || errors.Is(err, context.Canceled) {
		return err
	}
	return &api.Error{Status: http.StatusBadGateway, Code: "upstream_error", Err: err}
}
