package grantd

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Integration returns one integration the caller may see.
func (c *Client) Integration(ctx context.Context, id string) (Integration, error) {
	var out Integration
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "integrations", id), nil, &out)
	return out, err
}

// IntegrationUpdate changes an integration; a nil field is kept. Secrets
// are sealed by the server and never returned.
type IntegrationUpdate struct {
	Name         *string   `json:"name,omitempty"`
	ClientID     *string   `json:"client_id,omitempty"`
	ClientSecret *string   `json:"client_secret,omitempty"`
	PartnerToken *string   `json:"partner_token,omitempty"`
	RedirectURI  *string   `json:"redirect_uri,omitempty"`
	Scopes       *[]string `json:"scopes,omitempty"`
	Audience     *string   `json:"audience,omitempty"`
	IsDefault    *bool     `json:"is_default,omitempty"`
}

// String never prints the secrets.
func (u IntegrationUpdate) String() string { return "grantd.IntegrationUpdate{REDACTED}" }

// GoString never prints the secrets.
func (u IntegrationUpdate) GoString() string { return u.String() }

// SavedIntegration is an integration as saved, with whether the vendor
// was asked to check its credentials.
type SavedIntegration struct {
	Integration
	// CredentialsChecked says the vendor issued a token with the saved
	// credentials; CredentialsCheck says why they were not checked.
	CredentialsChecked bool   `json:"credentials_checked"`
	CredentialsCheck   string `json:"credentials_check,omitempty"`
}

// UpdateIntegration changes an integration: a tenant key its own, the
// admin key the operator's. New client-credentials or partner-token
// secrets are checked with the vendor first; a refused one is an
// [*Error] with code provider_rejected_credentials and nothing is saved.
func (c *Client) UpdateIntegration(ctx context.Context, id string, u IntegrationUpdate) (SavedIntegration, error) {
	var out SavedIntegration
	_, err := c.call(ctx, http.MethodPatch, c.endpoint("v1", "integrations", id), u, &out)
	return out, err
}

// IntegrationDeletion is what DeleteIntegration removed.
type IntegrationDeletion struct {
	ID                 string `json:"id"`
	Deleted            bool   `json:"deleted"`
	ConnectionsDeleted int    `json:"connections_deleted"`
	ConnectionsRevoked int    `json:"connections_revoked"`
}

// DeleteIntegration deletes an integration. One that connections use is
// refused (code in_use) unless cascade, which revokes and deletes them.
func (c *Client) DeleteIntegration(ctx context.Context, id string, cascade bool) (IntegrationDeletion, error) {
	target := c.endpoint("v1", "integrations", id)
	if cascade {
		target += "?cascade=true"
	}
	var out IntegrationDeletion
	_, err := c.call(ctx, http.MethodDelete, target, nil, &out)
	return out, err
}

// WebhookDelivery is one event on its way to one webhook endpoint.
type WebhookDelivery struct {
	ID            string         `json:"id"`
	TenantID      string         `json:"tenant_id,omitempty"`
	Endpoint      string         `json:"endpoint"`
	EventID       string         `json:"event_id"`
	EventType     string         `json:"event_type"`
	State         string         `json:"state"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt time.Time      `json:"next_attempt_at,omitzero"`
	LastError     string         `json:"last_error,omitempty"`
	CreatedAt     time.Time      `json:"created_at"`
	FinishedAt    time.Time      `json:"finished_at,omitzero"`
	Payload       map[string]any `json:"payload"`
}

// DeliveryFilter narrows WebhookDeliveries; empty fields match all.
type DeliveryFilter struct {
	State    string // pending, delivered or failed
	Endpoint string
	After    string // the NextAfter of the previous page
	Limit    int
}

// DeliveryPage is one page of deliveries; NextAfter is empty on the last.
type DeliveryPage struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
	NextAfter  string            `json:"next_after,omitempty"`
}

// WebhookDeliveries lists the caller's webhook deliveries, newest first,
// a page at a time.
func (c *Client) WebhookDeliveries(ctx context.Context, f DeliveryFilter) (DeliveryPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"state": f.State, "endpoint": f.Endpoint, "after": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	target := c.endpoint("v1", "webhook-deliveries")
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var out DeliveryPage
	_, err := c.call(ctx, http.MethodGet, target, nil, &out)
	return out, err
}

// Redeliver makes a delivery due again at once.
func (c *Client) Redeliver(ctx context.Context, id string) (WebhookDelivery, error) {
	var out WebhookDelivery
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "webhook-deliveries", id, "redeliver"), nil, &out)
	return out, err
}
