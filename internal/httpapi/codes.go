package httpapi

import "net/http"

// Code is a stable, machine-readable error code: the "code" of every error
// body. Clients branch on it; it never changes meaning once released.
type Code string

// CodeInfo describes one registered [Code]: Statuses lists every HTTP
// status the code is sent with, the usual one first; Description says what
// it means, for the OpenAPI document and for people.
type CodeInfo struct {
	Code        Code
	Statuses    []int
	Description string
}

// Status is the usual status of the code.
func (c CodeInfo) Status() int { return c.Statuses[0] }

// The codes grantd's HTTP API sends. Broker codes (package broker) are the
// same strings and are registered here too, so that every code a client can
// see is in one list.
const (
	CodeInvalidRequest   Code = "invalid_request"
	CodeUnauthorized     Code = "unauthorized"
	CodeForbidden        Code = "forbidden"
	CodeNotFound         Code = "not_found"
	CodeMethodNotAllowed Code = "method_not_allowed"
	CodeAlreadyExists    Code = "already_exists"
	CodeInUse            Code = "in_use"
	CodeRequestTooLarge  Code = "request_too_large"
	CodeRateLimited      Code = "rate_limited"
	CodeClientClosed     Code = "client_closed"
	CodeInternal         Code = "internal"
	CodeNotImplemented   Code = "not_implemented"
	CodeTimeout          Code = "timeout"

	// Broker codes (package broker).
	CodeInvalidReturnTo  Code = "invalid_return_to"
	CodeLinkExpired      Code = "link_expired"
	CodeInvalidState     Code = "invalid_state"
	CodeStateExpired     Code = "state_expired"
	CodeBrowserMismatch  Code = "browser_mismatch"
	CodeIssuerMismatch   Code = "issuer_mismatch"
	CodeAccessDenied     Code = "access_denied"
	CodeAuthorizeError   Code = "authorization_error"
	CodeTokenResponse    Code = "invalid_token_response"
	CodeIDToken          Code = "invalid_id_token"
	CodeNeedsReauth      Code = "needs_reauth"
	CodeRevoked          Code = "revoked"
	CodeUpstream         Code = "upstream_error"
	CodeUpstreamDown     Code = "upstream_unavailable"
	CodeUnsupportedGrant Code = "unsupported_grant"
	CodeRefreshThrottled Code = "refresh_throttled"
	CodeLinkUsed         Code = "link_used"
	CodeAccountMismatch  Code = "account_mismatch"
	CodeQuotaExceeded    Code = "quota_exceeded"
	// CodeDatabaseUnavailable: grantd's own database could not be reached;
	// nothing changed, and the request may be retried after Retry-After.
	CodeDatabaseUnavailable Code = "database_unavailable"
	// CodeRejectedCredentials: the vendor refused the integration's own
	// client credentials; the integration's configuration must change.
	CodeRejectedCredentials Code = "provider_rejected_credentials"

	// Proxy codes (package proxy).
	CodeInvalidPath              Code = "invalid_path"
	CodeUpstreamTimeout          Code = "upstream_timeout"
	CodeUpstreamUnreachable      Code = "upstream_unreachable"
	CodeUpstreamResponseTooLarge Code = "upstream_response_too_large"

	// Action codes (package action).
	CodeUnknownAction        Code = "unknown_action"
	CodeInvalidInput         Code = "invalid_input"
	CodeUpstreamRejected     Code = "upstream_rejected"
	CodeUpstreamNotFound     Code = "upstream_not_found"
	CodeUpstreamForbidden    Code = "upstream_forbidden"
	CodeUpstreamRateLimited  Code = "upstream_rate_limited"
	CodeUpstreamUnauthorized Code = "upstream_unauthorized"
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	CodeIdempotencyKeyInUse  Code = "idempotency_key_in_use"
)

// StatusClientClosed is recorded (nginx's 499) when the caller went away
// before its answer was written.
const StatusClientClosed = 499

// registry is every code, in the order the OpenAPI document lists them.
var registry = []CodeInfo{
	{CodeInvalidRequest, []int{http.StatusBadRequest, http.StatusUnsupportedMediaType}, "the request is malformed: a bad body, field, parameter or path id, or a body not sent as application/json (415)"},
	{CodeUnauthorized, []int{http.StatusUnauthorized}, "no API key, or one that is not valid"},
	{CodeForbidden, []int{http.StatusForbidden}, "the key may not call this route (an admin route)"},
	{CodeNotFound, []int{http.StatusNotFound}, "no such route or resource, or one that belongs to another tenant"},
	{CodeMethodNotAllowed, []int{http.StatusMethodNotAllowed}, "the route exists with other methods, listed in Allow"},
	{CodeAlreadyExists, []int{http.StatusConflict}, "a resource with that identity exists already"},
	{CodeInUse, []int{http.StatusConflict}, "the resource is in use (an integration with connections); delete what uses it first, or send cascade=true where the route allows it"},
	{CodeRequestTooLarge, []int{http.StatusRequestEntityTooLarge}, "the request body is larger than the route accepts"},
	{CodeRateLimited, []int{http.StatusTooManyRequests}, "too many requests (failed authentications from this address, or a tenant's hourly quota); retry after Retry-After"},
	{CodeClientClosed, []int{StatusClientClosed}, "the caller went away before the answer (logged, never read)"},
	{CodeInternal, []int{http.StatusInternalServerError}, "an internal error; the cause is logged with the request id"},
	{CodeNotImplemented, []int{http.StatusNotImplemented}, "this server is not configured for the route"},
	{CodeTimeout, []int{http.StatusGatewayTimeout}, "the request timed out"},

	{CodeInvalidReturnTo, []int{http.StatusBadRequest}, "return_to is not an allowed URL"},
	{CodeLinkExpired, []int{http.StatusGone}, "the connect or mapping link has expired or was used"},
	{CodeInvalidState, []int{http.StatusBadRequest}, "the authorization callback's state is unknown"},
	{CodeStateExpired, []int{http.StatusBadRequest}, "the authorization took too long"},
	{CodeBrowserMismatch, []int{http.StatusBadRequest}, "the callback came to another browser than the one that started"},
	{CodeIssuerMismatch, []int{http.StatusBadRequest}, "the callback's iss is not the provider's issuer"},
	{CodeAccessDenied, []int{http.StatusForbidden}, "the user or provider refused the authorization"},
	{CodeAuthorizeError, []int{http.StatusBadGateway}, "the provider answered the authorization with an error"},
	{CodeTokenResponse, []int{http.StatusBadGateway}, "the provider's token response is unusable"},
	{CodeIDToken, []int{http.StatusBadGateway}, "the provider's id_token failed verification"},
	{CodeNeedsReauth, []int{http.StatusConflict}, "the connection must be authorized again"},
	{CodeRevoked, []int{http.StatusGone}, "the connection was revoked"},
	{CodeUpstream, []int{http.StatusBadGateway}, "the provider failed; try again later"},
	{CodeUpstreamDown, []int{http.StatusServiceUnavailable}, "the provider could not be reached; try again later"},
	{CodeRefreshThrottled, []int{http.StatusTooManyRequests}, "a forced refresh came too soon after the last refresh; retry after Retry-After"},
	{CodeLinkUsed, []int{http.StatusGone}, "the connect link already produced a connection"},
	{CodeAccountMismatch, []int{http.StatusConflict}, "a reauthorization came back with another vendor account than the connection's"},
	{CodeQuotaExceeded, []int{http.StatusForbidden}, "the tenant has as many of these as its quota allows; delete some first"},
	{CodeDatabaseUnavailable, []int{http.StatusServiceUnavailable}, "grantd's database could not be reached; nothing changed; retry after Retry-After"},
	{CodeUnsupportedGrant, []int{http.StatusBadRequest}, "the integration's grant does not support this operation"},
	{CodeRejectedCredentials, []int{http.StatusUnprocessableEntity}, "the provider refused the integration's client credentials (401, invalid_client, unauthorized_client or access_denied at its token endpoint); correct the integration's client id or secret, trying again will not help; the message holds the provider's scrubbed reason"},

	{CodeInvalidPath, []int{http.StatusBadRequest}, "the proxied path could leave the provider's API base"},
	{CodeUpstreamTimeout, []int{http.StatusGatewayTimeout}, "the provider did not answer in time"},
	{CodeUpstreamUnreachable, []int{http.StatusBadGateway}, "the provider could not be reached"},
	{CodeUpstreamResponseTooLarge, []int{http.StatusBadGateway}, "the provider's response is larger than the proxy passes"},

	{CodeUnknownAction, []int{http.StatusNotFound}, "no action has that name; GET /v1/actions lists them"},
	{CodeInvalidInput, []int{http.StatusBadRequest}, "the action's input is invalid; field names the property"},
	{CodeUpstreamRejected, []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity}, "the provider refused the request; upstream holds its answer"},
	{CodeUpstreamNotFound, []int{http.StatusNotFound}, "the provider has no such resource"},
	{CodeUpstreamForbidden, []int{http.StatusForbidden}, "the provider forbids the request"},
	{CodeUpstreamRateLimited, []int{http.StatusTooManyRequests}, "the provider is rate limiting; retry after Retry-After"},
	{CodeUpstreamUnauthorized, []int{http.StatusBadGateway}, "the provider refused the connection's token, even after a refresh"},
	{CodeIdempotencyKeyReused, []int{http.StatusUnprocessableEntity}, "the Idempotency-Key was first used with another request (action, input or connection)"},
	{CodeIdempotencyKeyInUse, []int{http.StatusConflict}, "a request with this Idempotency-Key is still running; retry after Retry-After"},
}

var byCode = func() map[Code]CodeInfo {
	m := make(map[Code]CodeInfo, len(registry))
	for _, c := range registry {
		if _, dup := m[c.Code]; dup {
			panic("httpapi: code " + string(c.Code) + " registered twice")
		}
		m[c.Code] = c
	}
	return m
}()

// Codes returns every registered code, in a stable order.
func Codes() []CodeInfo { return append([]CodeInfo(nil), registry...) }

// Lookup returns the registration of c.
func Lookup(c Code) (CodeInfo, bool) {
	i, ok := byCode[c]
	return i, ok
}

// Status is the usual HTTP status of code c; unregistered codes are 500.
func Status(c Code) int {
	if i, ok := byCode[c]; ok {
		return i.Status()
	}
	return http.StatusInternalServerError
}
