package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/connectresult"
	"github.com/grantd/grantd/pax8"
)

// Config configures [New].
type Config struct {
	// GrantdURL and APIKey reach grantd as one of its tenants.
	GrantdURL, APIKey string
	// PublicURL is the application's own base URL, as the browser sees it;
	// return_to is PublicURL + "/connected".
	PublicURL string
	// Tag labels every connection the application makes, so that it lists
	// its own among the tenant's others.
	Tag string
	// Provider is the provider users connect (default "pax8").
	Provider string
}

// App is the application: an http.Handler with its three pages.
type App struct {
	grantd    *grantd.Client
	publicURL string
	tag       string
	provider  string
	results   *connectresult.Verifier
	mux       *http.ServeMux
}

// New connects to grantd, fetches the tenant's connect result key and
// returns the application.
func New(ctx context.Context, cfg Config) (*App, error) {
	c, err := grantd.NewClient(cfg.GrantdURL, cfg.APIKey, grantd.WithUserAgent("grantd-example-app"))
	if err != nil {
		return nil, err
	}
	if cfg.Tag == "" {
		return nil, errors.New("app: no tag")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("app: public URL %q is not an http(s) URL", cfg.PublicURL)
	}
	// The key changes only when grantd's vault key does; an application
	// that runs for months fetches it again when a result fails to verify.
	key, err := c.ConnectResultKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: connect result key: %w", err)
	}
	a := &App{
		grantd:    c,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		tag:       cfg.Tag,
		provider:  cfg.Provider,
		// One Verifier for the process: it remembers the session ids it
		// has accepted and refuses them again. Several processes would
		// share a Seen backed by their database.
		results: &connectresult.Verifier{Key: key},
		mux:     http.NewServeMux(),
	}
	if a.provider == "" {
		a.provider = "pax8"
	}
	a.mux.HandleFunc("GET /connect", a.connect)
	a.mux.HandleFunc("GET /connected", a.connected)
	a.mux.HandleFunc("GET /companies", a.companies)
	return a, nil
}

// ServeHTTP serves the application's pages.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// returnTo is where grantd sends the user back.
func (a *App) returnTo() string { return a.publicURL + "/connected" }

// connect creates a connect session for the application's user and sends
// the browser to it.
func (a *App) connect(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if user == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user is required"})
		return
	}
	s, err := a.grantd.CreateConnectSession(r.Context(), grantd.ConnectSessionRequest{
		Provider: a.provider,
		ReturnTo: a.returnTo(),
		EndUser:  grantd.EndUser{ID: user, Email: r.URL.Query().Get("email")},
		Tags:     []string{a.tag},
	})
	if err != nil {
		a.fail(w, "create connect session", err)
		return
	}
	http.Redirect(w, r, s.URL, http.StatusSeeOther)
}

// Page is what /connected and /companies answer.
type Page struct {
	Outcome      connectresult.Outcome `json:"outcome,omitempty"`
	Error        string                `json:"error,omitempty"`
	ConnectionID string                `json:"connection_id,omitempty"`
	EndUser      string                `json:"end_user,omitempty"`
	// Connections are the application's connections (those with its
	// tag), by id.
	Connections []string `json:"connections,omitempty"`
	// Companies are the Pax8 companies of the connection, by name.
	Companies []string `json:"companies,omitempty"`
	// ReauthorizeURL is set when the connection needs the partner to
	// consent again: the application sends them there.
	ReauthorizeURL string `json:"reauthorize_url,omitempty"`
}

// connected is the return_to page: nothing in the query is used before
// the signature, age and session id are verified.
func (a *App) connected(w http.ResponseWriter, r *http.Request) {
	res, err := a.results.Verify(r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the connect result cannot be trusted: " + err.Error()})
		return
	}
	p := Page{Outcome: res.Outcome, Error: res.Error, ConnectionID: res.ConnectionID}
	switch res.Outcome {
	case connectresult.Connected, connectresult.Reauthorized:
	default:
		// Denied or failed: nothing was connected; say why.
		writeJSON(w, http.StatusOK, p)
		return
	}
	ctx := r.Context()
	conn, err := a.grantd.Connection(ctx, res.ConnectionID)
	if err != nil {
		a.fail(w, "read the connection", err)
		return
	}
	p.EndUser = conn.EndUser.ID
	mine, err := a.grantd.Connections(ctx, grantd.ListOptions{Tag: a.tag})
	if err != nil {
		a.fail(w, "list connections", err)
		return
	}
	for _, c := range mine {
		p.Connections = append(p.Connections, c.ID)
	}
	a.listCompanies(w, r, p)
}

// companies lists one connection's Pax8 companies.
func (a *App) companies(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("connection")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "connection is required"})
		return
	}
	a.listCompanies(w, r, Page{ConnectionID: id})
}

// listCompanies calls Pax8 through grantd's proxy, with the connection's
// token, which the application never sees. When the connection needs the
// partner to consent again, the page carries a ReAuthorize link instead.
func (a *App) listCompanies(w http.ResponseWriter, r *http.Request, p Page) {
	ctx := r.Context()
	p8 := pax8.NewClient(a.grantd.Proxy(p.ConnectionID), pax8.WithBaseURL(a.grantd.ProxyURL(p.ConnectionID)))
	page, err := p8.Companies.List(ctx, &pax8.CompanyListOptions{ListOptions: pax8.ListOptions{Size: 50}})
	if err != nil {
		// grantd's own refusals reach the Pax8 client as their status;
		// the connection says whether the partner must consent again.
		conn, cerr := a.grantd.Connection(ctx, p.ConnectionID)
		if cerr != nil || conn.Status != grantd.StatusNeedsReauth {
			a.fail(w, "list Pax8 companies", err)
			return
		}
		link, err := a.grantd.Reauthorize(ctx, p.ConnectionID, a.returnTo())
		if err != nil {
			a.fail(w, "create a ReAuthorize link", err)
			return
		}
		p.ReauthorizeURL = link.URL
		writeJSON(w, http.StatusConflict, p)
		return
	}
	for _, c := range page.Content {
		p.Companies = append(p.Companies, c.Name)
	}
	writeJSON(w, http.StatusOK, p)
}

// fail logs err and answers 502 without its detail.
func (a *App) fail(w http.ResponseWriter, what string, err error) {
	log.Printf("app: %s: %v", what, err)
	writeJSON(w, http.StatusBadGateway, map[string]string{"error": "could not " + what})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
