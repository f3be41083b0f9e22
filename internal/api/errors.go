package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/broker"
)

// Error is a client error a handler returns: Status and Code go to the
// client with Msg, which must be safe to show; Err is the internal cause,
// which is logged and never shown.
type Error struct {
	Status int
	Code   string
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Stable error codes the API itself produces; broker codes pass through.
const (
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeNotFound         = "not_found"
	codeInvalidRequest   = "invalid_request"
	codeMethodNotAllowed = "method_not_allowed"
	codeInternal         = "internal"
	codeTimeout          = "timeout"
	codeRateLimited      = "rate_limited"
)

func errorf(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Msg: msg}
}

// brokerStatus maps every broker code to an HTTP status. Codes missing here
// are 500.
var brokerStatus = map[broker.Code]int{
	broker.CodeNotFound:         http.StatusNotFound,
	broker.CodeInvalidRequest:   http.StatusBadRequest,
	broker.CodeInvalidReturnTo:  http.StatusBadRequest,
	broker.CodeLinkExpired:      http.StatusGone,
	broker.CodeInvalidState:     http.StatusBadRequest,
	broker.CodeStateExpired:     http.StatusBadRequest,
	broker.CodeBrowserMismatch:  http.StatusBadRequest,
	broker.CodeIssuerMismatch:   http.StatusBadRequest,
	broker.CodeAccessDenied:     http.StatusForbidden,
	broker.CodeAuthorizeError:   http.StatusBadGateway,
	broker.CodeTokenResponse:    http.StatusBadGateway,
	broker.CodeIDToken:          http.StatusBadGateway,
	broker.CodeNeedsReauth:      http.StatusConflict,
	broker.CodeRevoked:          http.StatusGone,
	broker.CodeUpstream:         http.StatusBadGateway,
	broker.CodeUpstreamDown:     http.StatusServiceUnavailable,
	broker.CodeRefreshThrottled: http.StatusTooManyRequests,
	broker.CodeUnsupportedGrant: http.StatusBadRequest,
	broker.CodeInternal:         http.StatusInternalServerError,
}

// genericMsg is what a 5xx says, whatever its cause: server-side detail
// (which may quote a provider's response) is only logged.
var genericMsg = map[int]string{
	http.StatusInternalServerError: "internal error",
	http.StatusBadGateway:          "the provider returned an unusable response; try again later",
	http.StatusServiceUnavailable:  "the provider could not be reached; try again later",
	http.StatusGatewayTimeout:      "the request timed out",
}

// BrokerStatus returns the HTTP status for a broker error code (500 for
// unknown codes).
func BrokerStatus(c broker.Code) int {
	if s, ok := brokerStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// classify turns any error into what the client sees.
func classify(err error) (status int, code, msg string) {
	if e, ok := errors.AsType[*Error](err); ok {
		status, code, msg = e.Status, e.Code, e.Msg
	} else if e, ok := errors.AsType[*broker.Error](err); ok {
		status, code, msg = BrokerStatus(e.Code), string(e.Code), e.Msg
	} else if errors.Is(err, context.DeadlineExceeded) {
		status, code = http.StatusGatewayTimeout, codeTimeout
	} else {
		status, code = http.StatusInternalServerError, codeInternal
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if code == "" {
		code = codeInternal
	}
	if status >= 500 {
		if g, ok := genericMsg[status]; ok {
			msg = g
		} else {
			msg = "internal error"
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return status, code, msg
}

// WriteError is the one adapter from a handler's error to a response: it
// writes {"error":{"code","message"}} with the mapped status, and logs the
// cause once with the request id, route and status (at error level for
// 5xx, info below). It never writes the cause to the client. It is safe to
// call from handlers mounted outside this package.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := classify(err)
	info := infoFrom(r.Context())
	log := slog.Default()
	if info != nil && info.log != nil {
		log = info.log
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The caller went away; nobody reads this response.
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", r.Pattern),
		slog.Int("status", status),
		slog.String("code", code),
		slog.Any("err", err),
	}
	if info != nil {
		attrs = append(attrs, slog.String("request_id", info.requestID))
		if info.clientIP.IsValid() {
			attrs = append(attrs, slog.String("client_ip", info.clientIP.String()))
		}
	}
	log.LogAttrs(r.Context(), level, "api error", attrs...)

	buf := getBuf()
	defer putBuf(buf)
	b := append(buf.b[:0], `{"error":{"code":`...)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, "}}\n"...)
	buf.b = b
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Cache-Control"] = noStore
	if status == http.StatusUnauthorized {
		h["Www-Authenticate"] = bearerChallenge
	}
	if e, ok := errors.AsType[*broker.Error](err); ok && e.RetryAfter > 0 {
		h["Retry-After"] = []string{strconv.Itoa(int((e.RetryAfter + time.Second - 1) / time.Second))}
	}
	w.WriteHeader(status)
	w.Write(b)
}

var bearerChallenge = []string{`Bearer realm="grantd"`}
