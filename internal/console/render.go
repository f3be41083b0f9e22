package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

// pageError is an error with the status and message a browser sees; Err,
// logged, is never shown.
type pageError struct {
	Status  int
	Message string
	Err     error
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *pageError) Unwrap() error { return e.Err }

var (
	errNotFound  = &pageError{Status: http.StatusNotFound, Message: "There is nothing here, or it is not yours to see."}
	errForbidden = &pageError{Status: http.StatusForbidden, Message: "This form has expired or did not come from the console. Go back, reload the page and try again."}
	errBadForm   = &pageError{Status: http.StatusBadRequest, Message: "The form could not be read."}
	errAdminOnly = &pageError{Status: http.StatusNotFound, Message: "There is nothing here, or it is not yours to see."}
)

// badInput is a 400 whose message names what to fix.
func badInput(format string, args ...any) error {
	return &pageError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// layoutData is what every template receives.
type layoutData struct {
	Title  string
	Viewer viewer
	Nav    string
	Data   any
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"join": strings.Join,
}

// render executes name into a buffer first, so a template error never
// produces half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v viewer, title string, data any) {
	var buf bytes.Buffer
	nav, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/console/"), "/")
	if err := c.tmpl.ExecuteTemplate(&buf, name, layoutData{Title: title, Viewer: v, Nav: nav, Data: data}); err != nil {
		c.log.ErrorContext(r.Context(), "render console page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail is the console's one error adapter: it logs the cause once and
// shows a safe message (a generic one for internal errors).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on our side. Please try again later."
	if pe, ok := errors.AsType[*pageError](err); ok {
		status, msg = pe.Status, pe.Message
	} else if be, ok := errors.AsType[*broker.Error](err); ok {
		switch be.Code {
		case broker.CodeNotFound:
			status, msg = http.StatusNotFound, errNotFound.Message
		case broker.CodeInternal:
		default:
			status, msg = http.StatusConflict, sentence(be.Msg)
		}
	} else if errors.Is(err, store.ErrNotFound) {
		status, msg = http.StatusNotFound, errNotFound.Message
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	c.log.Log(r.Context(), level, "console error", "route", r.Pattern, "status", status, "err", err)
	v, _ := c.session(r)
	c.render(w, r, status, "error", v, http.StatusText(status), msg)
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
