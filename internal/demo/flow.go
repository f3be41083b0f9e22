package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/partner"
)

// Report is what the headless demo did, printed as text or JSON.
type Report struct {
	GrantdURL  string      `json:"grantd_url"`
	SandboxURL string      `json:"sandbox_url"`
	TenantID   string      `json:"tenant_id"`
	Steps      []Step      `json:"steps"`
	Connection *Connection `json:"connection,omitempty"`
	Partner    *User       `json:"partner,omitempty"`
	// Companies are the partner's Pax8 companies, listed through grantd.
	Companies []Company `json:"companies,omitempty"`
	OK        bool      `json:"ok"`
	Error     string    `json:"error,omitempty"`
}

// Step is one step of the flow and its outcome.
type Step struct {
	Name   string `json:"name"`
	Detail string `json:"detail"`
}

// Connection is the connection the flow created, as grantd's API reports it.
type Connection struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Provider  string    `json:"provider"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"access_expires_at"`
	ExpiresIn int64     `json:"expires_in"`
	TokenType string    `json:"token_type"`
}

// User is the partner identity the provider's userinfo endpoint
// returned for the access token.
type User struct {
	Subject string `json:"sub"`
	Name    string `json:"name"`
	Email   string `json:"email"`
}

// Company is one Pax8 company of the partner.
type Company struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (r *Report) step(name, format string, args ...any) {
	r.Steps = append(r.Steps, Step{Name: name, Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "grantd demo (headless): the Pax8 delegated flow against the sandbox\n\n")
	fmt.Fprintf(w, "  grantd   %s\n  sandbox  %s\n  tenant   %s\n\n", r.GrantdURL, r.SandboxURL, r.TenantID)
	for i, s := range r.Steps {
		fmt.Fprintf(w, "%2d. %-18s %s\n", i+1, s.Name, s.Detail)
	}
	if len(r.Companies) > 0 {
		fmt.Fprintf(w, "\nThe partner's Pax8 companies (%d), listed through grantd:\n", len(r.Companies))
		for _, c := range r.Companies {
			fmt.Fprintf(w, "    %s  %s\n", c.ID, c.Name)
		}
	}
	fmt.Fprintln(w)
	if r.OK {
		fmt.Fprintln(w, "OK: the partner connected, grantd serves a working access token, and the partner's companies are listed through the proxy and the list_companies action.")
	} else {
		fmt.Fprintf(w, "FAILED: %s\n", r.Error)
	}
}

// RunHeadless plays the partner over plain HTTP, then uses the connection
// through grantd's API. The report is filled even when a step fails.
func (d *Demo) RunHeadless(ctx context.Context) (*Report, error) {
	r := &Report{GrantdURL: d.PublicURL, SandboxURL: d.SandboxURL, TenantID: d.TenantID}
	err := d.flow(ctx, r)
	d.errMu.Lock()
	err = errors.Join(append([]error{err}, d.errs...)...)
	d.errMu.Unlock()
	r.OK = err == nil
	if err != nil {
		r.Error = err.Error()
	}
	return r, err
}

func (d *Demo) flow(ctx context.Context, r *Report) error {
	r.step("connect link", "POST /v1/connect-sessions as tenant %q: %s", d.TenantName, partner.RedactLink(d.Link.URL))
	if err := partner.Connect(ctx, d.Link.URL, d.PublicURL, d.Partner, r.step); err != nil {
		return err
	}

	// The application's view: the connection and a token, through the API.
	api, err := grantd.NewClient(d.PublicURL, d.APIKey)
	if err != nil {
		return err
	}
	conns, err := api.Connections(ctx, grantd.ListOptions{})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(conns, func(c grantd.Connection) bool { return c.IntegrationID == d.Link.IntegrationID })
	if i < 0 {
		return errors.New("no connection appeared after the callback")
	}
	c := conns[i]
	r.step("connection", "%s: status %s, scopes %s", c.ID, c.Status, strings.Join(c.Scopes, " "))
	tok, err := api.Token(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	r.Connection = &Connection{ID: c.ID, Status: c.Status, Provider: c.Provider, Scopes: tok.Scopes,
		ExpiresAt: tok.ExpiresAt, ExpiresIn: tok.ExpiresIn, TokenType: tok.TokenType}
	r.step("token", "GET /v1/connections/%s/token: %s token, expires %s (%s)",
		c.ID, tok.TokenType, formatTime(tok.ExpiresAt), formatUntil(tok.ExpiresAt, time.Now()))

	// The token works at the provider: who is the partner?
	p, _ := d.App.Providers().Get("pax8")
	u, err := userinfo(ctx, p.UserinfoURL, tok.AccessToken)
	if err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	r.Partner = u
	r.step("partner identity", "GET %s: sub %s, name %q, email %s", p.UserinfoURL, u.Subject, u.Name, u.Email)
	if u.Email != d.Partner.Username {
		return fmt.Errorf("userinfo email is %q, want %q", u.Email, d.Partner.Username)
	}

	// The partner's companies through grantd, both ways: the proxy passes
	// Pax8's own pages through; the action walks every page.
	viaProxy, err := companiesViaProxy(ctx, api, c.ID)
	if err != nil {
		return fmt.Errorf("companies through the proxy: %w", err)
	}
	r.step("companies (proxy)", "GET /v1/proxy/%s/companies?size=200: %d companies", c.ID, len(viaProxy))
	var res struct {
		Content []Company `json:"content"`
	}
	if err := api.RunAction(ctx, c.ID, "pax8.list_companies", map[string]any{"all": true}, &res); err != nil {
		return fmt.Errorf("pax8.list_companies: %w", err)
	}
	viaAction := res.Content
	r.step("companies (action)", "POST /v1/connections/%s/actions/pax8.list_companies {\"all\":true}: %d companies", c.ID, len(viaAction))
	if len(viaProxy) == 0 {
		return errors.New("the partner has no companies")
	}
	if !slices.Equal(viaProxy, viaAction) {
		return fmt.Errorf("the proxy listed %d companies and the action %d, or in another order", len(viaProxy), len(viaAction))
	}
	r.Companies = viaProxy
	return nil
}

// companiesViaProxy lists every company through grantd's proxy, page by
// page as Pax8 serves them, with the public client's Proxy.
func companiesViaProxy(ctx context.Context, api *grantd.Client, connID string) ([]Company, error) {
	hc := api.Proxy(connID)
	var out []Company
	for page := 0; ; page++ {
		var p struct {
			Content []Company `json:"content"`
			Page    struct {
				TotalPages int `json:"totalPages"`
			} `json:"page"`
		}
		target := fmt.Sprintf("%s/companies?page=%d&size=200", api.ProxyURL(connID), page)
		if err := getJSON(ctx, hc, target, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Content...)
		if page+1 >= p.Page.TotalPages || len(p.Content) == 0 {
			return out, nil
		}
	}
}

// userinfo calls the provider's OIDC userinfo endpoint with the access
// token (OIDC Core §5.3).
func userinfo(ctx context.Context, endpoint, accessToken string) (*User, error) {
	if endpoint == "" {
		return nil, errors.New("the provider has no userinfo endpoint")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	var u User
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&u); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return &u, nil
}

// getJSON GETs target with hc and decodes the JSON answer into out; any
// status but 200 is an error.
func getJSON(ctx context.Context, hc *http.Client, target string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", req.URL.Path, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out)
}

// formatTime prints t in UTC to the second, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// formatUntil prints how long until t, rounded to the second.
func formatUntil(t, now time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := t.Sub(now).Round(time.Second)
	if d < 0 {
		return "expired " + (-d).String() + " ago"
	}
	return "in " + d.String()
}
