package broker

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable failure kind. The API maps codes to
// HTTP statuses; pages map them to messages.
type Code string

// Codes the broker returns.
const (
	CodeNotFound        Code = "not_found"
	CodeInvalidRequest  Code = "invalid_request"
	CodeInvalidReturnTo Code = "invalid_return_to"
	CodeLinkExpired     Code = "link_expired"
	// CodeLinkUsed: the connect link already produced a connection.
	CodeLinkUsed Code = "link_used"
	// CodeAccountMismatch: a reauthorization came back with another
	// vendor account than the connection's, and the link did not allow it.
	CodeAccountMismatch Code = "account_mismatch"
	// CodeQuotaExceeded: the tenant has as many of something as its quota
	// allows (integrations, connections).
	CodeQuotaExceeded Code = "quota_exceeded"
	// CodeRateLimited: the tenant made as many of something as its quota
	// allows in the current period (connect links per hour).
	CodeRateLimited     Code = "rate_limited"
	CodeInvalidState    Code = "invalid_state"
	CodeStateExpired    Code = "state_expired"
	CodeBrowserMismatch Code = "browser_mismatch"
	CodeIssuerMismatch  Code = "issuer_mismatch"
	CodeAccessDenied    Code = "access_denied"
	CodeAuthorizeError  Code = "authorization_error"
	CodeTokenResponse   Code = "invalid_token_response"
	CodeIDToken         Code = "invalid_id_token"
	CodeNeedsReauth     Code = "needs_reauth"
	CodeRevoked         Code = "revoked"
	CodeUpstream        Code = "upstream_error"
	CodeUpstreamDown    Code = "upstream_unavailable"
	// CodeRefreshThrottled: a forced refresh came inside
	// Options.MinForcedInterval of the last refresh; Error.RetryAfter says
	// when one may go again.
	CodeRefreshThrottled Code = "refresh_throttled"
	CodeUnsupportedGrant Code = "unsupported_grant"
	// CodeRejectedCredentials: the vendor's token endpoint refused the
	// integration's own credentials (401, invalid_client,
	// unauthorized_client, access_denied). The application's configuration
	// must change; trying again will not help. The integration is marked
	// broken until a token is issued with it again.
	CodeRejectedCredentials Code = "provider_rejected_credentials"
	CodeInternal            Code = "internal"
)

// Error is a failure with a message that is safe to show to the caller. Err
// holds the internal cause, which is logged but never shown.
type Error struct {
	Code Code
	Msg  string
	Err  error
	// RetryAfter, when set, is how long the caller should wait before
	// asking again (CodeRateLimited, CodeRefreshThrottled).
	RetryAfter time.Duration
	// ReturnTo, when set, is the allow-listed URL of the application the
	// user came from, for a page that sends them back to it.
	ReturnTo string
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// CodeOf returns err's Code, or "" when err is not a broker error.
func CodeOf(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return ""
}
