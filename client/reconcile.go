package grantd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Billing reconciliation. The answers are returned as the API's JSON
// (documented by the Reconciliation, ProductMappings and Billing schemas
// of the OpenAPI document): money in them is an exact decimal, so decode
// it into a decimal type, not a float64.

// PutBilling replaces what the tenant bills for period ("2026-11") with
// body, JSON lines (contentType "application/x-ndjson") or CSV
// ("text/csv", header org,product,quantity,unit_price). A refused upload
// is an [*Error] whose Details list every problem by line; nothing is
// stored then.
func (c *Client) PutBilling(ctx context.Context, period, contentType string, body io.Reader) (json.RawMessage, error) {
	return c.raw(ctx, http.MethodPut, c.endpoint("v1", "billing", period), contentType, body)
}

// UploadBilling is [Client.PutBilling] sent with POST, as upload forms do.
func (c *Client) UploadBilling(ctx context.Context, period, contentType string, body io.Reader) (json.RawMessage, error) {
	return c.raw(ctx, http.MethodPost, c.endpoint("v1", "billing", period), contentType, body)
}

// Billing returns what the tenant bills for period.
func (c *Client) Billing(ctx context.Context, period string) (json.RawMessage, error) {
	var out json.RawMessage
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "billing", period), nil, &out)
	return out, err
}

// ProductMappings returns the connection's product mappings, the period's
// billed keys without one, and suggestions.
func (c *Client) ProductMappings(ctx context.Context, connectionID, period string) (json.RawMessage, error) {
	if err := checkID("connection id", connectionID); err != nil {
		return nil, err
	}
	var out json.RawMessage
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "connections", connectionID, "product-mappings")+"?period="+url.QueryEscape(period), nil, &out)
	return out, err
}

// PutProductMapping maps the tenant's product key to a Pax8 product the
// period's data shows.
func (c *Client) PutProductMapping(ctx context.Context, connectionID, key, productID, period string) (json.RawMessage, error) {
	if err := checkID("connection id", connectionID); err != nil {
		return nil, err
	}
	if err := checkID("product key", key); err != nil {
		return nil, err
	}
	in := struct {
		ProductID string `json:"product_id"`
		Period    string `json:"period"`
	}{productID, period}
	var out json.RawMessage
	_, err := c.call(ctx, http.MethodPut, c.endpoint("v1", "connections", connectionID, "product-mappings", key), in, &out)
	return out, err
}

// DeleteProductMapping removes the mapping of a product key.
func (c *Client) DeleteProductMapping(ctx context.Context, connectionID, key string) error {
	if err := checkID("connection id", connectionID); err != nil {
		return err
	}
	if err := checkID("product key", key); err != nil {
		return err
	}
	_, err := c.call(ctx, http.MethodDelete, c.endpoint("v1", "connections", connectionID, "product-mappings", key), nil, nil)
	return err
}

// AcceptProductMappingSuggestions stores the period's suggestions (for
// keys, or all) as mappings.
func (c *Client) AcceptProductMappingSuggestions(ctx context.Context, connectionID, period string, keys ...string) (json.RawMessage, error) {
	if err := checkID("connection id", connectionID); err != nil {
		return nil, err
	}
	in := struct {
		Period      string   `json:"period"`
		ProductKeys []string `json:"product_keys,omitempty"`
	}{period, keys}
	var out json.RawMessage
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "connections", connectionID, "product-mappings", "accept-suggestions"), in, &out)
	return out, err
}

// Reconciliation reconciles the connection for period.
func (c *Client) Reconciliation(ctx context.Context, connectionID, period string) (json.RawMessage, error) {
	if err := checkID("connection id", connectionID); err != nil {
		return nil, err
	}
	var out json.RawMessage
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "connections", connectionID, "reconciliation")+"?period="+url.QueryEscape(period), nil, &out)
	return out, err
}

// ReconciliationReport returns the report page (HTML) sorted by sort and
// dir (empty: at_stake, desc).
func (c *Client) ReconciliationReport(ctx context.Context, connectionID, period, sort, dir string) ([]byte, error) {
	if err := checkID("connection id", connectionID); err != nil {
		return nil, err
	}
	q := url.Values{"period": {period}}
	if sort != "" {
		q.Set("sort", sort)
	}
	if dir != "" {
		q.Set("dir", dir)
	}
	return c.raw(ctx, http.MethodGet, c.endpoint("v1", "connections", connectionID, "reconciliation", "report")+"?"+q.Encode(), "", nil)
}

// raw sends body as is with contentType and returns the answer's bytes.
func (c *Client) raw(ctx context.Context, method, target, contentType string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("grantd: %w", err)
	}
	c.authorize(req.Header)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	op := method + " " + req.URL.Path
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("grantd: %s: %w", op, scrub(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("grantd: %s: read answer: %w", op, err)
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("grantd: %s: %w", op, newError(resp, b))
	}
	return bytes.TrimSpace(b), nil
}
