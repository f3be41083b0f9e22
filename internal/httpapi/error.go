package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

// Error is an error a handler returns for the client to see. Code is a
// registered [Code]; Message is the client's text and must be safe to show
// (no secret, no echo of the input); Status overrides the code's usual
// status when set (it should be one of the code's registered Statuses).
// Field and Details name the input at fault; Upstream carries what a
// provider said, for errors that pass it on. Err is the internal cause: it
// is logged once by [WriteError] and never sent.
type Error struct {
	Status   int
	Code     Code
	Message  string
	Field    string
	Details  []Detail
	Upstream any
	Err      error
}

// Detail is one problem with the input: Field is a JSON Pointer (RFC 6901)
// into the body, or a parameter name; Reason is a stable word for the
// kind of problem (the Reason constants: "unknown_field", "duplicate_field",
// "nul_byte", "invalid_utf8", "wrong_type"); Message says it in words.
type Detail struct {
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = string(e.Code)
	}
	if e.Err == nil {
		return msg
	}
	return msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an [Error] with code c, its usual status and msg.
func Errorf(c Code, msg string) *Error { return &Error{Code: c, Message: msg} }

// genericMsg is what a 5xx says, whatever its cause: server-side detail
// (which may quote a provider's response) is only logged.
var genericMsg = map[int]string{
	http.StatusInternalServerError: "internal error",
	http.StatusBadGateway:          "the provider returned an unusable response; try again later",
	http.StatusServiceUnavailable:  "the provider could not be reached; try again later",
	http.StatusGatewayTimeout:      "the request timed out",
}

// Classify returns the [Error] a client is shown for err, with Status,
// Code and Message always set. Any error that is neither an [*Error] nor a
// [*broker.Error] is an internal error (a timeout when the deadline
// passed), and every 5xx gets a generic message, whatever the error said.
func Classify(err error) *Error {
	var out Error
	if e, ok := errors.AsType[*Error](err); ok {
		out = *e
	} else if databaseDown(err) {
		out = Error{Code: CodeDatabaseUnavailable, Message: "the database is unavailable; try again later"}
	} else if e, ok := errors.AsType[*broker.Error](err); ok {
		out = Error{Code: Code(e.Code), Message: e.Msg}
	} else if errors.Is(err, context.DeadlineExceeded) {
		out = Error{Code: CodeTimeout}
	} else {
		out = Error{Code: CodeInternal}
	}
	out.Err = err
	if out.Code == "" {
		out.Code = CodeInternal
	}
	if out.Status == 0 {
		out.Status = Status(out.Code)
	}
	if out.Status >= 500 && out.Code != CodeDatabaseUnavailable {
		if g, ok := genericMsg[out.Status]; ok {
			out.Message = g
		} else {
			out.Message = "internal error"
		}
	}
	if out.Message == "" {
		out.Message = http.StatusText(out.Status)
	}
	return &out
}

// databaseDown reports whether err says grantd's own database could not
// be reached: a store error marked [store.ErrUnavailable], or an internal
// broker error caused by one.
func databaseDown(err error) bool {
	if errors.Is(err, store.ErrUnavailable) {
		return true
	}
	e, ok := errors.AsType[*broker.Error](err)
	return ok && e.Code == broker.CodeInternal && store.Unavailable(e.Err)
}

// databaseRetryAfter is the Retry-After of a database_unavailable answer:
// a replica reconnects within a few seconds of the database's return.
const databaseRetryAfter = "2"

// StatusOf is the status [WriteError] gives err.
func StatusOf(err error) int { return Classify(err).Status }

// errorBody is the wire form of every error:
//
//	{"error":{"code","message","field"?,"details"?,"upstream"?}}
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code     Code     `json:"code"`
	Message  string   `json:"message"`
	Field    string   `json:"field,omitempty"`
	Details  []Detail `json:"details,omitempty"`
	Upstream any      `json:"upstream,omitempty"`
}

// WriteError is the one adapter from a handler's error to a response: it
// writes the error body with the mapped status and Cache-Control:
// no-store, and logs the cause once with the request's id, route and
// status (at error level for 5xx, info below, debug when the caller went
// away). It never writes the cause to the client. A 401 carries the
// bearer challenge (RFC 6750 §3).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := Classify(err)
	info := InfoFrom(r.Context())
	log := slog.Default()
	if info != nil && info.Log != nil {
		log = info.Log
	}
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		level = slog.LevelDebug // nobody reads this response
	}
	if log.Enabled(r.Context(), level) {
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", routeOf(r, info)),
			slog.Int("status", e.Status),
			slog.String("code", string(e.Code)),
			slog.Any("err", err),
		}
		if info != nil {
			attrs = append(attrs, slog.String("request_id", info.ID))
			if info.ClientIP.IsValid() {
				attrs = append(attrs, slog.String("client_ip", info.ClientIP.String()))
			}
		}
		if c, ok := Lookup(e.Code); !ok || !slices.Contains(c.Statuses, e.Status) {
			attrs = append(attrs, slog.Bool("unregistered_code", true))
		}
		log.LogAttrs(r.Context(), level, "api error", attrs...)
	}

	buf := getBuf()
	defer putBuf(buf)
	b := buf.B[:0]
	if e.Field == "" && e.Details == nil && e.Upstream == nil {
		b = append(b, `{"error":{"code":`...)
		b = AppendString(b, string(e.Code))
		b = append(b, `,"message":`...)
		b = AppendString(b, e.Message)
		b = append(b, "}}\n"...)
	} else {
		j, merr := json.Marshal(errorBody{Error: errorJSON{Code: e.Code, Message: e.Message, Field: e.Field, Details: e.Details, Upstream: e.Upstream}})
		if merr != nil {
			j, _ = json.Marshal(errorBody{Error: errorJSON{Code: e.Code, Message: e.Message}})
		}
		b = append(append(b, j...), '\n')
	}
	buf.B = b
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = nosniff
	if e.Status == http.StatusUnauthorized {
		h["Www-Authenticate"] = bearerChallenge
	}
	if e.Code == CodeDatabaseUnavailable {
		h["Retry-After"] = []string{databaseRetryAfter}
	} else if be, ok := errors.AsType[*broker.Error](err); ok && be.RetryAfter > 0 {
		h["Retry-After"] = []string{strconv.Itoa(int((be.RetryAfter + time.Second - 1) / time.Second))}
	}
	w.WriteHeader(e.Status)
	w.Write(b)
}

var bearerChallenge = []string{`Bearer realm="grantd"`}

func routeOf(r *http.Request, info *RequestInfo) string {
	if info != nil && info.Route != "" {
		return info.Route
	}
	return r.Pattern
}
