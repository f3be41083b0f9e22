package pax8

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/retry"
)

// Error is an error response from the Pax8 API: any status outside 2xx. Its
// fields mirror Pax8's error body ({"type","message","instance","status",
// "details"}); when the body is not Pax8 JSON (an HTML page from a gateway,
// or nothing) Message is the HTTP status text and Type is empty.
//
// Retrieve it with errors.AsType[*pax8.Error](err); errors.Is(err,
// [ErrNotFound]) and the other sentinels compare by status. Message never
// contains the bearer token: text that looks like a token or an
// Authorization value is replaced with REDACTED.
type Error struct {
	// Type is Pax8's error code, such as "NOT_FOUND" or "BAD_REQUEST".
	Type string `json:"type,omitempty"`
	// Message is the human-readable description.
	Message string `json:"message,omitempty"`
	// Instance is the gateway path that failed, such as "/public/v1/companies/…".
	Instance string `json:"instance,omitempty"`
	// Status is the HTTP status code of the response.
	Status int `json:"status,omitempty"`
	// Details lists per-field problems, typically on 400 and 422.
	Details []ErrorDetail `json:"details,omitempty"`
	// RequestID is the gateway's id for the request (see [Response]), for
	// Pax8 support; "" if the response had none.
	RequestID string `json:"-"`
	// RetryAfter is the wait the server asked for with Retry-After, if any.
	// On a 429 that survived every retry, it says when to try again.
	RetryAfter time.Duration `json:"-"`
}

// ErrorDetail is one entry of [Error.Details].
type ErrorDetail struct {
	Type     string `json:"type,omitempty"`
	Message  string `json:"message,omitempty"`
	Instance string `json:"instance,omitempty"`
	Status   int    `json:"status,omitempty"`
}

// Sentinels that an [*Error] matches with errors.Is, by HTTP status.
var (
	ErrBadRequest    = errors.New("pax8: bad request")          // 400
	ErrUnauthorized  = errors.New("pax8: unauthorized")         // 401
	ErrForbidden     = errors.New("pax8: forbidden")            // 403
	ErrNotFound      = errors.New("pax8: not found")            // 404
	ErrUnprocessable = errors.New("pax8: unprocessable entity") // 422
	ErrRateLimited   = errors.New("pax8: rate limited")         // 429
)

var statusSentinels = map[int]error{
	http.StatusBadRequest:          ErrBadRequest,
	http.StatusUnauthorized:        ErrUnauthorized,
	http.StatusForbidden:           ErrForbidden,
	http.StatusNotFound:            ErrNotFound,
	http.StatusUnprocessableEntity: ErrUnprocessable,
	http.StatusTooManyRequests:     ErrRateLimited,
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.Status)
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, d := range e.Details {
		if d.Message != "" {
			b.WriteString("; " + d.Message)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is reports whether target is the sentinel for e's status.
func (e *Error) Is(target error) bool {
	s, ok := statusSentinels[e.Status]
	return ok && s == target
}

// Temporary reports whether repeating the request later may succeed: 408,
// 429 and 5xx responses.
func (e *Error) Temporary() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// parseError builds an *Error from a non-2xx response. It reads at most
// maxErrorBody bytes and never looks at request headers.
func parseError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, RetryAfter: retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "text/html" && len(body) > 0 && body[0] != '<' {
		var wire struct {
			Type     string        `json:"type"`
			Message  string        `json:"message"`
			Instance string        `json:"instance"`
			Details  []ErrorDetail `json:"details"`
			// OAuth-style bodies from the token gateway.
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if json.Unmarshal(body, &wire) == nil {
			e.Type = cmpOr(wire.Type, wire.Error)
			e.Message = redact(cmpOr(wire.Message, wire.ErrorDescription))
			e.Instance = wire.Instance
			e.Details = wire.Details
			for i := range e.Details {
				e.Details[i].Message = redact(e.Details[i].Message)
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var (
	bearerRE = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*`)
	jwtRE    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
)

// redact removes credentials a server might echo in an error message.
func redact(s string) string {
	s = bearerRE.ReplaceAllString(s, "$1 REDACTED")
	return jwtRE.ReplaceAllString(s, "REDACTED")
}
