package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/grantd/grantd/internal/broker"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures a [Handler]. Broker is required.
type Options struct {
	Broker *broker.Broker
	// Logger receives one line per failed page; nil discards.
	Logger *slog.Logger
	// Secure marks cookies Secure; set it when the public URL is https.
	Secure bool
	// ProductName is shown on pages (default "grantd").
	ProductName string
}

// Handler serves the pages. It implements [http.Handler] and is safe for
// concurrent use.
type Handler struct {
	broker *broker.Broker
	log    *slog.Logger
	secure bool
	name   string
	tmpl   *template.Template
	mux    *http.ServeMux
}

// New parses the embedded templates and returns the handler for
// GET /, GET /connect/{token}, POST /connect/{token}/start,
// GET /oauth/callback/{integration}, GET /oauth/done and GET /static/….
func New(opts Options) (*Handler, error) {
	if opts.Broker == nil {
		return nil, errors.New("web: Broker is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ProductName == "" {
		opts.ProductName = "grantd"
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	h := &Handler{
		broker: opts.Broker,
		log:    opts.Logger,
		secure: opts.Secure,
		name:   opts.ProductName,
		tmpl:   tmpl,
		mux:    http.NewServeMux(),
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	cop := http.NewCrossOriginProtection()
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("GET /connect/{token}", h.connectPage)
	h.mux.Handle("POST /connect/{token}/start", cop.Handler(http.HandlerFunc(h.start)))
	h.mux.HandleFunc("GET /oauth/callback/{integration}", h.callback)
	h.mux.HandleFunc("GET /oauth/done", h.done)
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static))))
	return h, nil
}

// ServeHTTP implements [http.Handler]. Every response carries the security
// headers; a route-specific CSP may replace the default one.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp(""))
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.page(w, r, http.StatusNotFound, "error", errorPage{Title: "Page not found", Message: "There is no page at this address."})
		return
	}
	h.mux.ServeHTTP(w, r)
}

// csp returns the Content-Security-Policy. formOrigin is where a form on
// the page may lead: the start button's POST is answered with a redirect
// to the provider, and Chromium applies form-action to that redirect.
func csp(formOrigin string) string {
	fa := "'self'"
	if formOrigin != "" {
		fa += " " + formOrigin
	}
	return "default-src 'none'; style-src 'self'; img-src 'self'; form-action " + fa +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// staticFiles lets the stylesheet be cached, unlike the pages, and serves
// files only: a directory (any path ending in "/", "/static/" itself
// included) is 404, never a listing of what the binary embeds.
func staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	h.page(w, r, http.StatusOK, "index", nil)
}
