package pax8api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// apiError is Pax8's error body (https://devx.pax8.com/docs/errors):
//
//	{"type":"NOT_FOUND","message":"Company Not Found: <id>",
//	 "instance":"/public/v1/companies/<id>","status":404,"details":[]}
//
// Handlers return it; [API.ServeHTTP] fills in Instance and writes it.
type apiError struct {
	Type     string        `json:"type"`
	Message  string        `json:"message"`
	Instance string        `json:"instance"`
	Status   int           `json:"status"`
	Details  []errorDetail `json:"details"`
}

// errorDetail is one item of an error's details, used for validation
// problems.
type errorDetail struct {
	Message string `json:"message"`
}

// Error returns the status, type and message, for logs and tests.
func (e *apiError) Error() string {
	return fmt.Sprintf("pax8api: %d %s: %s", e.Status, e.Type, e.Message)
}

// instancePrefix is the gateway path Pax8 reports in error instances instead
// of the public /v1 base (provider facts §1.1).
const instancePrefix = "/public/v1"

func newError(status int, typ, msg string) *apiError {
	return &apiError{Type: typ, Message: msg, Status: status, Details: []errorDetail{}}
}

// notFound reports a missing resource the way Pax8 words it, for example
// "Company Not Found: <id>".
func notFound(kind, id string) *apiError {
	return newError(http.StatusNotFound, "NOT_FOUND", kind+" Not Found: "+id)
}

// badParam reports a malformed or out-of-range query parameter.
func badParam(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "INVALID_PARAM", fmt.Sprintf(format, args...))
}

// badRequest reports a request body that is not valid JSON of the right shape.
func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf(format, args...))
}

// validation collects the problems found in a syntactically valid request and
// turns them into one 422 error.
type validation struct {
	problems []string
}

func (v *validation) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validation) ok() bool { return len(v.problems) == 0 }

// err returns nil when nothing was reported, else a 422 whose message
// summarises and whose details list every problem.
func (v *validation) err(what string) error {
	if v.ok() {
		return nil
	}
	return unprocessable(what, v.problems...)
}

func unprocessable(msg string, problems ...string) *apiError {
	e := newError(http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", msg)
	for _, p := range problems {
		e.Details = append(e.Details, errorDetail{Message: p})
	}
	return e
}

// writeError writes e with its instance set to the request path under
// [instancePrefix].
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	out := *e
	if out.Details == nil {
		out.Details = []errorDetail{}
	}
	out.Instance = instancePrefix + "/" + strings.TrimPrefix(r.URL.Path, "/")
	writeJSON(w, out.Status, out)
}

// writeJSON writes v as the JSON response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every body is built from plain structs; this cannot happen short of
		// a programming error, so report it as Pax8 would report a 500.
		b = []byte(`{"type":"INTERNAL_SERVER_ERROR","message":"Internal Server Error","status":500,"details":[]}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
