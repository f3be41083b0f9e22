package web

import (
	"bytes"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/broker"
)

// layout is what every template receives.
type layout struct {
	Product string
	Title   string
	Data    any
}

// errorPage is the data of the error template.
type errorPage struct {
	Title   string
	Message string
	Code    string
	// Back is the way back to the application: its return_to with the
	// signed failure, else the allow-listed return_to; "" shows the
	// generic advice.
	Back string
	// NotYours says the failure is the application's configuration, not
	// the user's: starting again will not help.
	NotYours bool
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
}

// page renders name into a buffer and writes it with status, so a template
// error never produces half a page.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	title := ""
	switch d := data.(type) {
	case errorPage:
		title = d.Title
	case connectPage:
		title = "Connect " + d.Provider.DisplayName
	case successPage:
		title = "Connected"
	}
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, layout{Product: h.name, Title: title, Data: data}); err != nil {
		h.log.ErrorContext(r.Context(), "render page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// codeStatus maps a broker failure to the status of the error page.
func codeStatus(c broker.Code) int {
	switch c {
	case broker.CodeInvalidState, broker.CodeStateExpired, broker.CodeBrowserMismatch,
		broker.CodeIssuerMismatch, broker.CodeInvalidRequest, broker.CodeInvalidReturnTo,
		broker.CodeUnsupportedGrant:
		return http.StatusBadRequest
	case broker.CodeAccessDenied:
		return http.StatusForbidden
	case broker.CodeNotFound:
		return http.StatusNotFound
	case broker.CodeLinkExpired, broker.CodeLinkUsed:
		return http.StatusGone
	case broker.CodeNeedsReauth, broker.CodeAccountMismatch:
		return http.StatusConflict
	case broker.CodeRateLimited:
		return http.StatusTooManyRequests
	case broker.CodeAuthorizeError, broker.CodeTokenResponse, broker.CodeIDToken, broker.CodeUpstream:
		return http.StatusBadGateway
	case broker.CodeUpstreamDown:
		return http.StatusServiceUnavailable
	case broker.CodeRejectedCredentials:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

var titles = map[int]string{
	http.StatusBadRequest:          "This authorization cannot be completed",
	http.StatusForbidden:           "Access was not granted",
	http.StatusNotFound:            "This link is not valid",
	http.StatusGone:                "This link has expired",
	http.StatusConflict:            "Reauthorization needed",
	http.StatusBadGateway:          "The provider did not complete the connection",
	http.StatusUnprocessableEntity: "The application is not set up correctly",
	http.StatusServiceUnavailable:  "The provider could not be reached",
	http.StatusTooManyRequests:     "Too many requests",
	http.StatusInternalServerError: "Something went wrong",
}

// codeTitles replace the status's title for the codes that need their own.
var codeTitles = map[broker.Code]string{
	broker.CodeLinkUsed:        "This link was already used",
	broker.CodeAccountMismatch: "A different account signed in",
}

// fail is the pages' one error adapter: it logs the cause and shows the
// broker's safe message (a generic one for internal errors).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.failBack(w, r, err, "")
}

// failBack is fail with a link back to the application: back is its
// return_to with the signed outcome, or "" when none is known.
func (h *Handler) failBack(w http.ResponseWriter, r *http.Request, err error, back string) {
	code := broker.CodeOf(err)
	status := codeStatus(code)
	msg := "Something went wrong on our side. Please try again later."
	returnTo := ""
	if e, ok := errors.AsType[*broker.Error](err); ok && status != http.StatusInternalServerError {
		msg = sentence(e.Msg)
		returnTo = e.ReturnTo
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "page error", "route", r.Pattern, "status", status, "code", string(code), "err", err)
	title := titles[status]
	if t, ok := codeTitles[code]; ok {
		title = t
	}
	if back == "" {
		back = returnTo
	}
	h.page(w, r, status, "error", errorPage{Title: title, Message: msg, Code: string(code), Back: back,
		NotYours: code == broker.CodeRejectedCredentials})
}

// sentence capitalises msg and ends it with a full stop.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
