package grantd

import (
	"context"
	"net/http"
)

// Providers lists the providers integrations can be made with.
func (c *Client) Providers(ctx context.Context) ([]Provider, error) {
	var out struct {
		Providers []Provider `json:"providers"`
	}
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "providers"), nil, &out)
	return out.Providers, err
}

// Integrations lists the tenant's integrations and the operator's shared
// ones.
func (c *Client) Integrations(ctx context.Context) ([]Integration, error) {
	var out struct {
		Integrations []Integration `json:"integrations"`
	}
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "integrations"), nil, &out)
	return out.Integrations, err
}

// CreateIntegration registers the tenant's own OAuth client.
func (c *Client) CreateIntegration(ctx context.Context, req IntegrationRequest) (Integration, error) {
	var out Integration
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "integrations"), req, &out)
	return out, err
}

// Tenants lists the tenants (admin key).
func (c *Client) Tenants(ctx context.Context) ([]Tenant, error) {
	var out struct {
		Tenants []Tenant `json:"tenants"`
	}
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "tenants"), nil, &out)
	return out.Tenants, err
}

// CreateTenant creates a tenant and its first API key (admin key). The key
// is returned only here.
func (c *Client) CreateTenant(ctx context.Context, name string) (Tenant, string, error) {
	var out struct {
		Tenant Tenant `json:"tenant"`
		APIKey string `json:"api_key"`
	}
	in := struct {
		Name string `json:"name"`
	}{name}
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "tenants"), in, &out)
	return out.Tenant, out.APIKey, err
}

// DeleteTenant deletes a tenant and everything it owns, revoking its grants
// at their providers first (admin key).
func (c *Client) DeleteTenant(ctx context.Context, id string) (TenantDeletion, error) {
	var out TenantDeletion
	if err := checkID("tenant id", id); err != nil {
		return out, err
	}
	_, err := c.call(ctx, http.MethodDelete, c.endpoint("v1", "tenants", id), nil, &out)
	return out, err
}

// Keys lists a tenant's API keys, oldest first.
func (c *Client) Keys(ctx context.Context, tenantID string) ([]APIKey, error) {
	if err := checkID("tenant id", tenantID); err != nil {
		return nil, err
	}
	var out struct {
		Keys []APIKey `json:"keys"`
	}
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "tenants", tenantID, "keys"), nil, &out)
	return out.Keys, err
}

// CreateKey creates another API key for a tenant and returns its record and
// the key, which is shown only here. Earlier keys keep working.
func (c *Client) CreateKey(ctx context.Context, tenantID string, req KeyRequest) (APIKey, string, error) {
	var out struct {
		Key    APIKey `json:"key"`
		APIKey string `json:"api_key"`
	}
	if err := checkID("tenant id", tenantID); err != nil {
		return out.Key, "", err
	}
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "tenants", tenantID, "keys"), req, &out)
	return out.Key, out.APIKey, err
}

// RevokeKey revokes an API key.
func (c *Client) RevokeKey(ctx context.Context, tenantID, keyID string) error {
	if err := checkID("tenant id", tenantID); err != nil {
		return err
	}
	if err := checkID("key id", keyID); err != nil {
		return err
	}
	_, err := c.call(ctx, http.MethodDelete, c.endpoint("v1", "tenants", tenantID, "keys", keyID), nil, nil)
	return err
}
