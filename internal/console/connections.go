package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

type connectionsData struct {
	Query     store.ConnectionQuery
	Within    string
	Rows      []store.Connection
	NextURL   string
	Tenants   []store.Tenant
	Providers []string
	Statuses  []store.Status
}

// withinChoices are the "expires within" filter's values, in days.
var withinChoices = map[string]int{"7": 7, "30": 30, "90": 90}

// connections lists connections by id with keyset pagination, filtered
// by tenant (operator only), provider, status and "expires within", and
// searched by id or account email.
func (c *Console) connections(w http.ResponseWriter, r *http.Request, v viewer) error {
	q := r.URL.Query()
	d := connectionsData{Statuses: []store.Status{store.StatusActive, store.StatusNeedsReauth, store.StatusRevoked}}
	d.Query = store.ConnectionQuery{
		TenantID: v.TenantID,
		Provider: q.Get("provider"),
		Status:   store.Status(q.Get("status")),
		Search:   q.Get("q"),
	}
	if v.Admin {
		d.Query.TenantID = q.Get("tenant")
	}
	if d.Query.Status != "" && d.Query.Status != store.StatusActive && d.Query.Status != store.StatusNeedsReauth && d.Query.Status != store.StatusRevoked {
		return badInput("Status must be active, needs_reauth or revoked.")
	}
	if len(d.Query.Search) > 320 || len(d.Query.Provider) > 100 || len(d.Query.TenantID) > 100 {
		return badInput("A filter is too long.")
	}
	if d.Within = q.Get("within"); d.Within != "" {
		days, ok := withinChoices[d.Within]
		if !ok {
			return badInput("Expires within must be 7, 30 or 90 days.")
		}
		d.Query.ExpiresBefore = c.now().Add(time.Duration(days) * 24 * time.Hour)
	}
	after := q.Get("after")
	rows, err := c.opts.Store.ListConnectionsPage(r.Context(), d.Query, after, c.opts.PageSize+1)
	if err != nil {
		return err
	}
	if len(rows) > c.opts.PageSize {
		rows = rows[:c.opts.PageSize]
		next := url.Values{}
		for k, vs := range q {
			if k != "after" {
				next[k] = vs
			}
		}
		next.Set("after", rows[len(rows)-1].ID)
		d.NextURL = "/console/connections?" + next.Encode()
	}
	d.Rows = rows
	if v.Admin {
		if d.Tenants, err = c.opts.Store.ListTenants(r.Context()); err != nil {
			return err
		}
	}
	for _, p := range c.opts.Broker.Providers().All() {
		d.Providers = append(d.Providers, p.Name)
	}
	c.render(w, r, http.StatusOK, "connections", v, "Connections", d)
	return nil
}

type connectionData struct {
	Conn     store.Connection
	Tenant   string
	Events   []store.Event
	Timeline timeline
	Problem  string
	NextStep string
	Reauth   bool
	Link     *broker.Link
	Notice   string
}

// load returns the viewer's connection id; another tenant's is not found,
// like an unknown id.
func (c *Console) load(r *http.Request, v viewer) (store.Connection, error) {
	conn, err := c.opts.Store.GetConnection(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !v.owns(conn.TenantID)) {
		return store.Connection{}, errNotFound
	}
	return conn, err
}

// connection shows one connection: status, scopes, a timeline of its
// deadlines and refreshes, its last problem in plain words with the next
// step, and its events.
func (c *Console) connection(w http.ResponseWriter, r *http.Request, v viewer) error {
	conn, err := c.load(r, v)
	if err != nil {
		return err
	}
	return c.showConnection(w, r, v, conn, nil, r.URL.Query().Get("notice"))
}

var notices = map[string]string{
	"refreshed": "The connection was refreshed.",
}

func (c *Console) showConnection(w http.ResponseWriter, r *http.Request, v viewer, conn store.Connection, link *broker.Link, notice string) error {
	events, err := c.opts.Store.ListEvents(r.Context(), conn.ID, 50)
	if err != nil {
		return err
	}
	var refreshes []time.Time
	for _, e := range events {
		if e.Kind == "refreshed" {
			refreshes = append(refreshes, e.CreatedAt)
		}
	}
	d := connectionData{Conn: conn, Events: events, Link: link, Notice: notices[notice]}
	d.Timeline = grantTimeline(conn, refreshes, c.now())
	d.Problem, d.NextStep, d.Reauth = c.explain(conn)
	c.render(w, r, http.StatusOK, "connection", v, "Connection "+conn.ID, d)
	return nil
}

// explain says what is wrong with conn, in plain words, and what to do.
func (c *Console) explain(conn store.Connection) (problem, next string, reauth bool) {
	name := conn.Provider
	if p, ok := c.opts.Broker.Providers().Get(conn.Provider); ok && p.DisplayName != "" {
		name = p.DisplayName
	}
	switch conn.Status {
	case store.StatusNeedsReauth:
		problem = name + " refused the refresh token"
		if conn.LastError != "" {
			problem += " (" + conn.LastError + ")"
		}
		return problem + ".", "The partner must ReAuthorize: create a link below and send it to them.", true
	case store.StatusRevoked:
		return "The connection was revoked.", "Create a link below and send it to the partner to connect again.", true
	}
	if conn.LastError != "" {
		next = "grantd retries on its own"
		if !conn.NextAttemptAt.IsZero() {
			next += " at " + conn.NextAttemptAt.UTC().Format("15:04 UTC, 2 Jan")
		}
		return "The last refresh failed for a passing reason: " + conn.LastError + " (" + strconv.Itoa(conn.FailureCount) + " in a row).",
			next + "; the connection stays active meanwhile.", false
	}
	return "", "", false
}

// refresh forces a refresh of the connection now.
func (c *Console) refresh(w http.ResponseWriter, r *http.Request, v viewer) error {
	conn, err := c.load(r, v)
	if err != nil {
		return err
	}
	if _, err := c.opts.Broker.Refresh(r.Context(), conn.ID, ""); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/connections/"+conn.ID+"?notice=refreshed", http.StatusSeeOther)
	return nil
}

// reauth creates a ReAuthorize connect link for the connection and shows
// it once.
func (c *Console) reauth(w http.ResponseWriter, r *http.Request, v viewer) error {
	conn, err := c.load(r, v)
	if err != nil {
		return err
	}
	l, err := c.opts.Broker.CreateLink(r.Context(), conn.TenantID, broker.LinkRequest{IntegrationID: conn.IntegrationID, ConnectionID: conn.ID})
	if err != nil {
		return err
	}
	return c.showConnection(w, r, v, conn, &l, "")
}

// disconnect deletes the connection (revoking its grant at the provider
// when it can).
func (c *Console) disconnect(w http.ResponseWriter, r *http.Request, v viewer) error {
	conn, err := c.load(r, v)
	if err != nil {
		return err
	}
	if _, err := c.opts.Broker.Disconnect(r.Context(), conn.TenantID, conn.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/connections", http.StatusSeeOther)
	return nil
}
