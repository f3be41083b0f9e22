package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiClient calls grantd's JSON API as one tenant (or the operator). It
// is safe for concurrent use.
type apiClient struct {
	base string // without a trailing slash
	key  string
	hc   *http.Client
}

// String never prints the key.
func (c *apiClient) String() string { return "apiClient{" + c.base + " key=REDACTED}" }

func newAPIClient(base, key string) (*apiClient, error) {
	if base == "" {
		return nil, usagef("no server: pass --server or set GRANTD_URL")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--server %q is not an http(s) URL", base)
	}
	if key == "" {
		return nil, usagef("no API key: pass --key or set GRANTD_API_KEY")
	}
	return &apiClient{base: strings.TrimRight(base, "/"), key: key, hc: &http.Client{Timeout: 30 * time.Second}}, nil
}

// apiError is the API's error shape: {"error":{"code","message"}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("server answered %d", e.Status)
	}
	return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
}

// do sends a request with the key as a bearer token and decodes a JSON
// answer into out (unless out is nil).
func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error apiError `json:"error"`
		}
		_ = json.Unmarshal(b, &env)
		env.Error.Status = resp.StatusCode
		return fmt.Errorf("%s %s: %w", method, path, &env.Error)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// connectSession is the answer of POST /v1/connect-sessions.
type connectSession struct {
	ID            string    `json:"id"`
	URL           string    `json:"url"`
	ExpiresAt     time.Time `json:"expires_at"`
	IntegrationID string    `json:"integration_id"`
}

// connectionJSON is a connection as the API shows it (never with tokens).
type connectionJSON struct {
	ID                   string    `json:"id"`
	TenantID             string    `json:"tenant_id"`
	IntegrationID        string    `json:"integration_id"`
	Provider             string    `json:"provider"`
	Status               string    `json:"status"`
	Subject              string    `json:"subject,omitempty"`
	Email                string    `json:"email,omitempty"`
	Scopes               []string  `json:"scopes"`
	AccessExpiresAt      time.Time `json:"access_expires_at,omitzero"`
	RefreshExpiresAt     time.Time `json:"refresh_expires_at,omitzero"`
	RefreshIdleExpiresAt time.Time `json:"refresh_idle_expires_at,omitzero"`
	LastRefreshAt        time.Time `json:"last_refresh_at,omitzero"`
	ConnectedAt          time.Time `json:"connected_at,omitzero"`
	Version              int64     `json:"version"`
	LastError            string    `json:"last_error,omitempty"`
}

// tokenJSON is the answer of GET /v1/connections/{id}/token.
type tokenJSON struct {
	ConnectionID string    `json:"connection_id"`
	Provider     string    `json:"provider"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	ExpiresIn    int64     `json:"expires_in"`
	Scopes       []string  `json:"scopes"`
}

// String never prints the token.
func (t tokenJSON) String() string { return "token{" + t.ConnectionID + " REDACTED}" }

func (c *apiClient) createSession(ctx context.Context, providerName, integrationID, returnTo string) (connectSession, error) {
	in := map[string]string{}
	if providerName != "" {
		in["provider"] = providerName
	}
	if integrationID != "" {
		in["integration_id"] = integrationID
	}
	if returnTo != "" {
		in["return_to"] = returnTo
	}
	var out connectSession
	err := c.do(ctx, http.MethodPost, "/v1/connect-sessions", in, &out)
	return out, err
}

// connections lists the caller's connections. The API answers either a
// bare array or {"connections":[…]}; both are accepted.
func (c *apiClient) connections(ctx context.Context) ([]connectionJSON, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/v1/connections", nil, &raw); err != nil {
		return nil, err
	}
	var list []connectionJSON
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var wrapped struct {
		Connections []connectionJSON `json:"connections"`
	}
	if err := json.Unmarshal(raw, &wrapped); err != nil {
		return nil, fmt.Errorf("decode connections: %w", err)
	}
	return wrapped.Connections, nil
}

func (c *apiClient) token(ctx context.Context, id string) (tokenJSON, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return tokenJSON{}, errors.New("invalid connection id")
	}
	var out tokenJSON
	err := c.do(ctx, http.MethodGet, "/v1/connections/"+url.PathEscape(id)+"/token", nil, &out)
	return out, err
}
