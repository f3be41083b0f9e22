package orgmap

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

var pageTmpl = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// Page returns the handler of the mapping page, GET and POST
// /mappings/{token}, reached through a link from [Service.CreateLink]. The
// page shows the connection's cached company list ([Service.Get]); its
// Refresh link, GET /mappings/{token}?refresh=1, lists the companies
// again ([Service.Refresh]). The
// token in the path is the page's only credential, so responses are never
// cached or sent as a referrer. Forms post back to the same URL, guarded by
// [http.CrossOriginProtection], and are answered with a redirect to the
// page (POST-redirect-GET).
func (s *Service) Page() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PagePath+"{token}", s.showPage)
	mux.Handle("POST "+PagePath+"{token}", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.postPage)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

type pageData struct {
	ConnectionID string
	Email        string
	ExpiresAt    string
	ListedAt     string
	Notice       string
	Result       Result
	Orgs         []Organization
}

type messageData struct {
	Title, Message string
}

func (s *Service) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "render mapping page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail shows err as a page: the message of a broker error, with its status;
// anything else as a generic failure. The cause is logged.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, title, msg := http.StatusInternalServerError, "Something went wrong", "The page cannot be shown right now; try again later."
	if e, ok := errors.AsType[*broker.Error](err); ok {
		switch e.Code {
		case broker.CodeNotFound:
			status, title, msg = http.StatusNotFound, "Link not valid", e.Msg
		case broker.CodeLinkExpired:
			status, title, msg = http.StatusGone, "Link expired", e.Msg
		case broker.CodeInvalidRequest:
			status, title, msg = http.StatusBadRequest, "Not saved", e.Msg
		case broker.CodeNeedsReauth, broker.CodeRevoked:
			status, title, msg = http.StatusConflict, "Connection needs attention", e.Msg
		case broker.CodeUpstream, broker.CodeUpstreamDown:
			status, title, msg = http.StatusBadGateway, "Pax8 did not answer", "Pax8 could not be reached or failed; try again later."
		}
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "mapping page error", "status", status, "err", err)
	s.render(w, r, status, "message", messageData{Title: title, Message: msg})
}

func (s *Service) link(r *http.Request) (store.MappingLink, error) {
	return s.ResolveLink(r.Context(), r.PathValue("token"))
}

func (s *Service) showPage(w http.ResponseWriter, r *http.Request) {
	l, err := s.link(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fresh, _ := strconv.ParseBool(r.URL.Query().Get("refresh")) // anything else: the cached list
	res, err := s.get(r.Context(), l.TenantID, l.ConnectionID, fresh)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	orgs, err := s.Organizations(r.Context(), l.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.b.Connection(r.Context(), l.TenantID, l.ConnectionID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := pageData{
		ConnectionID: l.ConnectionID,
		Email:        c.Email,
		ExpiresAt:    l.ExpiresAt.UTC().Format("2 Jan 2006 15:04 UTC"),
		ListedAt:     res.CompaniesListedAt.UTC().Format("15:04:05 UTC"),
		Notice:       notices[r.URL.Query().Get("done")],
		Result:       res,
		Orgs:         orgs,
	}
	s.render(w, r, http.StatusOK, "mapping", data)
}

// notices are the messages shown after a redirect; the query names one,
// so no user text is reflected.
var notices = map[string]string{
	"accepted": "Suggestion accepted.",
	"all":      "Suggestions accepted.",
	"set":      "Mapping saved.",
	"deleted":  "Mapping removed.",
}

func (s *Service) postPage(w http.ResponseWriter, r *http.Request) {
	l, err := s.link(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errorf(broker.CodeInvalidRequest, err, "the form could not be read"))
		return
	}
	ctx, tenantID, connID := r.Context(), l.TenantID, l.ConnectionID
	company := r.PostForm.Get("company_id")
	var done string
	switch r.PostForm.Get("action") {
	case "accept":
		var ms []Mapping
		if ms, err = s.AcceptSuggestions(ctx, tenantID, connID, company); err == nil && len(ms) == 0 {
			err = errorf(broker.CodeInvalidRequest, nil, "there is no suggestion for this company any more")
		}
		done = "accepted"
	case "accept_all":
		_, err = s.AcceptSuggestions(ctx, tenantID, connID)
		done = "all"
	case "set":
		_, err = s.Set(ctx, tenantID, connID, company, r.PostForm.Get("org_id"))
		done = "set"
	case "delete":
		err = s.Delete(ctx, tenantID, connID, company)
		done = "deleted"
	default:
		err = errorf(broker.CodeInvalidRequest, nil, "unknown action %s", strconv.Quote(r.PostForm.Get("action")))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, PagePath+url.PathEscape(r.PathValue("token"))+"?done="+done, http.StatusSeeOther)
}
