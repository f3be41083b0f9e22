package oauthx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// TokenError is a token endpoint's answer that is not a usable token: an
// RFC 6749 §5.2 error response (at any status, including 200 with an error
// field), or a non-2xx, HTML or otherwise malformed answer. It mirrors
// [golang.org/x/oauth2.RetrieveError].
//
// It keeps none of the answer's body, which may echo the request in forms
// no redaction can foresee (nested encodings); Code, Description and URI
// have every form of every secret of the request (raw, URL-encoded,
// JSON-escaped, Go-quoted, in Basic credentials) replaced by REDACTED.
type TokenError struct {
	// Code is the RFC 6749 §5.2 error code (invalid_grant), empty when the
	// answer carried none.
	Code string
	// Description is error_description, scrubbed and truncated.
	Description string
	// URI is error_uri, scrubbed.
	URI string
	// Status is the HTTP status code of the answer.
	Status int
	// ContentType is the answer's media type, without parameters.
	ContentType string
	// RetryAfter is the wait the endpoint asked for with Retry-After (a 429
	// or 503), or 0.
	RetryAfter time.Duration

	// detail says what was wrong with an answer that has no Code.
	detail string
}

// Error implements error. It names the code, status and description, or
// describes a malformed answer ("token endpoint answered 200 text/html, want
// JSON").
func (e *TokenError) Error() string {
	var b strings.Builder
	if e.Code != "" {
		fmt.Fprintf(&b, "token endpoint error %s (status %d)", e.Code, e.Status)
		if e.Description != "" {
			fmt.Fprintf(&b, ": %s", e.Description)
		}
		return b.String()
	}
	ct := e.ContentType
	if ct == "" {
		ct = "no content type"
	}
	fmt.Fprintf(&b, "token endpoint answered %d %s", e.Status, ct)
	if e.detail != "" {
		fmt.Fprintf(&b, ", %s", e.detail)
	}
	return b.String()
}

// GoString implements [fmt.GoStringer].
func (e *TokenError) GoString() string {
	return fmt.Sprintf("&oauthx.TokenError{Code:%q, Description:%q, URI:%q, Status:%d, ContentType:%q}",
		e.Code, e.Description, e.URI, e.Status, e.ContentType)
}

// LogValue implements [slog.LogValuer]: the code, status, content type and
// description.
func (e *TokenError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("code", e.Code),
		slog.Int("status", e.Status),
		slog.String("content_type", e.ContentType),
		slog.String("description", e.Description),
	)
}

// sendError is a failure to send a request or to read its answer, with a
// record of whether the request may have reached the server.
type sendError struct {
	err error
	// sent is true once the request was written to a connection: the
	// server may have acted on it.
	sent bool
}

func (e *sendError) Error() string {
	if e.sent {
		return fmt.Sprintf("token request sent, outcome unknown: %v", e.err)
	}
	return fmt.Sprintf("token request not sent: %v", e.err)
}

func (e *sendError) Unwrap() error { return e.err }

// StatusError is a non-2xx answer from an endpoint other than the token
// endpoint (userinfo, discovery). It never carries the body.
type StatusError struct {
	// Endpoint names the endpoint ("userinfo").
	Endpoint string
	// Status is the HTTP status code.
	Status int
	// ContentType is the answer's media type.
	ContentType string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s endpoint answered %d %s", e.Endpoint, e.Status, e.ContentType)
}

// IsInvalidGrant reports whether err is a [*TokenError] with code
// invalid_grant (RFC 6749 §5.2): the code or refresh token was refused. It is
// not proof of revocation; see the broker.
func IsInvalidGrant(err error) bool {
	te, ok := errors.AsType[*TokenError](err)
	return ok && te.Code == "invalid_grant"
}

// IsTransient reports whether err is worth retrying later: a network error or
// timeout, a 5xx or 429 answer (whatever its body), or an OAuth error code
// that says so (temporarily_unavailable, server_error). 4xx OAuth errors and
// malformed 2xx answers are not transient, nor is a cancelled context.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if te, ok := errors.AsType[*TokenError](err); ok {
		switch te.Code {
		case "temporarily_unavailable", "server_error":
			return true
		}
		return te.Status >= 500 || te.Status == http.StatusTooManyRequests
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	if _, ok := errors.AsType[*sendError](err); ok {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// IsSentUncertain reports whether the request behind err may have reached
// the server although no answer was read: a timeout or connection reset after
// the request was written. Callers must then treat an authorization code as
// spent and never resend it (SEC-30). It is false when the server answered
// (a [*TokenError]: the outcome is known) and when the request never left
// (connection refused, DNS failure).
func IsSentUncertain(err error) bool {
	se, ok := errors.AsType[*sendError](err)
	return ok && se.sent
}

// maxDescription bounds the error_description kept in a TokenError.
const maxDescription = 256

// maxScrubbed bounds the provider text scrub looks at; the rest goes.
const maxScrubbed = 16 << 10

// withheld replaces provider text that still holds a secret once every
// known form is redacted.
const withheld = "REDACTED (the provider's text echoed a secret)"

// scrub replaces every form of every secret rd knows in s with REDACTED,
// turns control characters into spaces and truncates the result, so that a
// provider's message can be shown and logged even when it echoes what was
// sent. It replaces before and after the control characters go, so that a
// secret containing one, or one split by one where it has a space, is
// caught either way; text in which [redactor.leaks] still finds a secret
// is withheld whole.
func scrub(s string, rd *redactor) string {
	if len(s) > maxScrubbed {
		s = strings.ToValidUTF8(s[:maxScrubbed], "")
	}
	s = rd.string(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = rd.string(s)
	if rd.leaks(s) {
		return withheld
	}
	if len(s) > maxDescription {
		s = strings.ToValidUTF8(s[:maxDescription], "") + "…"
	}
	return s
}
