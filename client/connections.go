package grantd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// ListOptions filters [Client.Connections].
type ListOptions struct {
	// Status keeps only connections with this status ([StatusActive],
	// [StatusNeedsReauth], [StatusRevoked]); empty keeps all.
	Status string
	// Tag keeps only connections whose tags include it; empty keeps all.
	Tag string
	// EndUserID keeps only connections made for this end user
	// ([EndUser].ID); empty keeps all.
	EndUserID string
}

// Connections lists the tenant's connections.
func (c *Client) Connections(ctx context.Context, opts ListOptions) ([]Connection, error) {
	target := c.endpoint("v1", "connections")
	q := url.Values{}
	for k, v := range map[string]string{"status": opts.Status, "tag": opts.Tag, "end_user_id": opts.EndUserID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var out struct {
		Connections []Connection `json:"connections"`
	}
	_, err := c.call(ctx, http.MethodGet, target, nil, &out)
	return out.Connections, err
}

// Connection returns one connection.
func (c *Client) Connection(ctx context.Context, id string) (Connection, error) {
	var out Connection
	if err := checkID("connection id", id); err != nil {
		return out, err
	}
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "connections", id), nil, &out)
	return out, err
}

// CreateConnection connects an integration that needs no user (client
// credentials, or a partner token); grantd requests the first token at
// once. scopes may be nil; for Daxko it names the one client, such as
// "client:9999".
func (c *Client) CreateConnection(ctx context.Context, integrationID string, scopes []string) (Connection, error) {
	var out Connection
	if err := checkID("integration id", integrationID); err != nil {
		return out, err
	}
	in := struct {
		IntegrationID string   `json:"integration_id"`
		Scopes        []string `json:"scopes,omitempty"`
	}{integrationID, scopes}
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "connections"), in, &out)
	return out, err
}

// Disconnect deletes the connection and its sealed tokens. revoked reports
// whether the provider confirmed the revocation of the grant (RFC 7009); a
// failed revocation does not stop the deletion.
func (c *Client) Disconnect(ctx context.Context, id string) (revoked bool, err error) {
	if err := checkID("connection id", id); err != nil {
		return false, err
	}
	h, err := c.call(ctx, http.MethodDelete, c.endpoint("v1", "connections", id), nil, nil)
	if err != nil {
		return false, err
	}
	return h.Get("Grantd-Revoked") == "true", nil
}

// Token returns a valid access token for the connection, refreshed by
// grantd when needed. When the connection needs the tenant to consent
// again, the error satisfies [IsNeedsReauth].
func (c *Client) Token(ctx context.Context, id string) (Token, error) {
	var out Token
	if err := checkID("connection id", id); err != nil {
		return out, err
	}
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "connections", id, "token"), nil, &out)
	return out, err
}

// Refresh forces a refresh and returns the new access token. With seen, the
// access token the caller saw the provider refuse, grantd refreshes only
// while that token is still the stored one, and otherwise returns the newer
// token without asking the provider: callers that all saw the same token
// fail cause one refresh. Forced refreshes are throttled per connection;
// inside the window the error satisfies [IsRateLimited] with RetryAfter.
func (c *Client) Refresh(ctx context.Context, id, seen string) (Token, error) {
	var out Token
	if err := checkID("connection id", id); err != nil {
		return out, err
	}
	var in any
	if seen != "" {
		in = struct {
			AccessToken string `json:"access_token"`
		}{seen}
	}
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "connections", id, "refresh"), in, &out)
	return out, err
}

// Events returns the connection's newest events, newest first; limit 0
// means the server's default (50), and the server accepts up to 500.
func (c *Client) Events(ctx context.Context, id string, limit int) ([]Event, error) {
	if err := checkID("connection id", id); err != nil {
		return nil, err
	}
	target := c.endpoint("v1", "connections", id, "events")
	if limit > 0 {
		target += "?limit=" + strconv.Itoa(limit)
	}
	var out struct {
		Events []Event `json:"events"`
	}
	_, err := c.call(ctx, http.MethodGet, target, nil, &out)
	return out.Events, err
}

// CreateConnectSession creates a connect link for the calling tenant.
func (c *Client) CreateConnectSession(ctx context.Context, req ConnectSessionRequest) (ConnectSession, error) {
	var out ConnectSession
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "connect-sessions"), req, &out)
	return out, err
}

// Reauthorize creates a connect link that reauthorizes the connection (the
// next step after [IsNeedsReauth]), through the connection's own
// integration, which it reads first. The consent must come back with the
// same vendor account.
func (c *Client) Reauthorize(ctx context.Context, connectionID, returnTo string) (ConnectSession, error) {
	conn, err := c.Connection(ctx, connectionID)
	if err != nil {
		return ConnectSession{}, err
	}
	return c.CreateConnectSession(ctx, ConnectSessionRequest{
		IntegrationID: conn.IntegrationID,
		ConnectionID:  connectionID,
		ReturnTo:      returnTo,
	})
}

// ConnectResultKey returns the key that signs the calling tenant's connect
// results, the query parameters grantd adds to a connect session's
// return_to: the Key of a [connectresult.Verifier]. Fetch it when needed
// rather than storing it; it changes when the server's vault key does
// (unless the server has GRANTD_CONNECT_RESULT_SECRET).
//
// [connectresult.Verifier]: https://pkg.go.dev/github.com/grantd/grantd/connectresult#Verifier
func (c *Client) ConnectResultKey(ctx context.Context) ([]byte, error) {
	var out struct {
		Key       string `json:"key"`
		Algorithm string `json:"algorithm"`
	}
	if _, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "connect-result-key"), nil, &out); err != nil {
		return nil, err
	}
	if out.Algorithm != "HMAC-SHA256" {
		return nil, fmt.Errorf("grantd: connect result key: unknown algorithm %q", out.Algorithm)
	}
	key, err := base64.RawURLEncoding.DecodeString(out.Key)
	if err != nil || len(key) == 0 {
		return nil, errors.New("grantd: connect result key: not base64url")
	}
	return key, nil
}

// OpenAPI returns the server's OpenAPI 3.1 document, as JSON.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "openapi.json"), nil, &out)
	return out, err
}
