package grantd

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The API's stable error codes, as listed by the ErrorCode schema of the
// OpenAPI document. Only the ones an application usually branches on are
// named here; [Error.Code] holds any of them.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeUnauthorized      = "unauthorized"
	CodeForbidden         = "forbidden"
	CodeNotFound          = "not_found"
	CodeAlreadyExists     = "already_exists"
	CodeRateLimited       = "rate_limited"
	CodeNeedsReauth       = "needs_reauth"
	CodeRevoked           = "revoked"
	CodeUpstreamError     = "upstream_error"
	CodeUpstreamUnavail   = "upstream_unavailable"
	CodeRefreshThrottled  = "refresh_throttled"
	CodeQuotaExceeded     = "quota_exceeded"
	CodeUnknownAction     = "unknown_action"
	CodeInvalidInput      = "invalid_input"
	CodeUpstreamRateLimit = "upstream_rate_limited"
)

// Error is an error answer of the API: its body
// {"error":{"code","message",…}}, the HTTP status and Retry-After. Its
// message is safe to show; it never holds a secret.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the API's stable machine-readable code, such as
	// "needs_reauth"; empty when the body was not the API's error shape
	// (a proxy in front of grantd answered, say).
	Code string
	// Message is the server's explanation, for people.
	Message string
	// Field names the input at fault, when there is one.
	Field string
	// Details lists the problems with a request body.
	Details []ErrorDetail
	// Upstream is the provider's error body for action errors, as sent.
	Upstream json.RawMessage
	// RetryAfter is the wait the server asked for (429, 503), or zero.
	RetryAfter time.Duration
}

// ErrorDetail is one problem with a request body.
type ErrorDetail struct {
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Sentinels for errors.Is: an [*Error] is one of these when its Code is
// theirs.
var (
	ErrNeedsReauth  = &Error{Code: CodeNeedsReauth}
	ErrRevoked      = &Error{Code: CodeRevoked}
	ErrNotFound     = &Error{Code: CodeNotFound}
	ErrUnauthorized = &Error{Code: CodeUnauthorized}
)

func (e *Error) Error() string {
	switch {
	case e.Code == "" && e.Message == "":
		return fmt.Sprintf("server answered %d %s", e.Status, http.StatusText(e.Status))
	case e.Code == "":
		return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
	}
	return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, grantd.ErrNeedsReauth) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// newError reads an error answer.
func newError(resp *http.Response, body []byte) *Error {
	var env struct {
		Error struct {
			Code     string          `json:"code"`
			Message  string          `json:"message"`
			Field    string          `json:"field"`
			Details  []ErrorDetail   `json:"details"`
			Upstream json.RawMessage `json:"upstream"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &env)
	e := &Error{
		Status:   resp.StatusCode,
		Code:     env.Error.Code,
		Message:  env.Error.Message,
		Field:    env.Error.Field,
		Details:  env.Error.Details,
		Upstream: env.Error.Upstream,
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// code returns err's API error code, or "".
func code(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return ""
}

// ErrorCode returns the API error code err carries, or "" when err is not
// (or does not wrap) an [*Error].
func ErrorCode(err error) string { return code(err) }

// IsNeedsReauth reports whether the connection must be authorized again:
// create a connect session with its ConnectionID and send the tenant there.
func IsNeedsReauth(err error) bool { return code(err) == CodeNeedsReauth }

// IsRevoked reports whether the connection was revoked.
func IsRevoked(err error) bool { return code(err) == CodeRevoked }

// IsNotFound reports whether the resource does not exist for this key
// (including another tenant's).
func IsNotFound(err error) bool { return code(err) == CodeNotFound }

// IsRateLimited reports whether the server asked to wait: a tenant quota,
// too many failed authentications, a forced refresh too soon, or the
// provider rate limiting. [Error.RetryAfter] says how long.
func IsRateLimited(err error) bool {
	switch code(err) {
	case CodeRateLimited, CodeRefreshThrottled, CodeUpstreamRateLimit:
		return true
	}
	return false
}
