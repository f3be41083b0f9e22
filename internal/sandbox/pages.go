package sandbox

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"slices"
)

//go:embed templates/*.html
var templateFS embed.FS

func parsePages() (*template.Template, error) {
	return template.ParseFS(templateFS, "templates/*.html")
}

// render executes a page into a buffer first, so that a template error
// never leaves a half-written page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("sandbox render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type messagePage struct {
	Provider, Title, Message, Detail string
}

// renderMessage shows an error or notice page.
func (s *Server) renderMessage(w http.ResponseWriter, status int, provider, title, msg, detail string) {
	s.render(w, status, "message.html", messagePage{Provider: provider, Title: title, Message: msg, Detail: detail})
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	type prov struct {
		Name      string
		Endpoints Endpoints
		Clients   int
	}
	data := struct {
		Provider  string
		Title     string
		Providers []prov
		Accounts  []Account
	}{Provider: "all", Title: "Index", Accounts: append(Accounts(), AccountsOf(Paxful)...)}
	var names []string
	for n := range s.providers {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := s.providers[n]
		p.mu.Lock()
		c := len(p.clients)
		p.mu.Unlock()
		data.Providers = append(data.Providers, prov{Name: n, Endpoints: s.Endpoints(n), Clients: c})
	}
	s.render(w, http.StatusOK, "index.html", data)
}
