package grantd

import (
	"context"
	"net/http"
)

// Organizations lists the tenant's own organisations, ordered by id.
func (c *Client) Organizations(ctx context.Context) ([]Organization, error) {
	var out struct {
		Organizations []Organization `json:"organizations"`
	}
	_, err := c.call(ctx, http.MethodGet, c.endpoint("v1", "organizations"), nil, &out)
	return out.Organizations, err
}

// PutOrganizations replaces the tenant's organisations with orgs (nil
// clears them) and returns what was stored. Ids must be unique and every
// organisation needs a name; otherwise nothing changes.
func (c *Client) PutOrganizations(ctx context.Context, orgs []Organization) ([]Organization, error) {
	if orgs == nil {
		orgs = []Organization{}
	}
	in := struct {
		Organizations []Organization `json:"organizations"`
	}{orgs}
	var out struct {
		Organizations []Organization `json:"organizations"`
	}
	_, err := c.call(ctx, http.MethodPut, c.endpoint("v1", "organizations"), in, &out)
	return out.Organizations, err
}

// OrgMappings returns the connection's mapping state. With refresh, grantd
// lists the companies from Pax8 now instead of using the list it keeps for
// up to 60 s.
func (c *Client) OrgMappings(ctx context.Context, connectionID string, refresh bool) (OrgMappings, error) {
	var out OrgMappings
	if err := checkID("connection id", connectionID); err != nil {
		return out, err
	}
	target := c.endpoint("v1", "connections", connectionID, "org-mappings")
	if refresh {
		target += "?refresh=true"
	}
	_, err := c.call(ctx, http.MethodGet, target, nil, &out)
	return out, err
}

// PutOrgMapping maps one company to one of the tenant's organisations.
func (c *Client) PutOrgMapping(ctx context.Context, connectionID, companyID, orgID string) (OrgMapping, error) {
	var out OrgMapping
	if err := checkID("connection id", connectionID); err != nil {
		return out, err
	}
	if err := checkID("company id", companyID); err != nil {
		return out, err
	}
	in := struct {
		OrgID string `json:"org_id"`
	}{orgID}
	_, err := c.call(ctx, http.MethodPut, c.endpoint("v1", "connections", connectionID, "org-mappings", companyID), in, &out)
	return out, err
}

// DeleteOrgMapping removes the mapping of one company.
func (c *Client) DeleteOrgMapping(ctx context.Context, connectionID, companyID string) error {
	if err := checkID("connection id", connectionID); err != nil {
		return err
	}
	if err := checkID("company id", companyID); err != nil {
		return err
	}
	_, err := c.call(ctx, http.MethodDelete, c.endpoint("v1", "connections", connectionID, "org-mappings", companyID), nil, nil)
	return err
}

// AcceptOrgMappingSuggestions stores the current suggestions as mappings:
// all of them, or only those of companyIDs when it is not empty.
func (c *Client) AcceptOrgMappingSuggestions(ctx context.Context, connectionID string, companyIDs []string) ([]OrgMapping, error) {
	if err := checkID("connection id", connectionID); err != nil {
		return nil, err
	}
	var in any
	if len(companyIDs) > 0 {
		in = struct {
			CompanyIDs []string `json:"company_ids"`
		}{companyIDs}
	}
	var out struct {
		Mappings []OrgMapping `json:"mappings"`
	}
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "connections", connectionID, "org-mappings", "accept-suggestions"), in, &out)
	return out.Mappings, err
}

// CreateMappingLink creates a link to the connection's mapping page, valid
// for an hour. Its URL is shown once.
func (c *Client) CreateMappingLink(ctx context.Context, connectionID string) (MappingLink, error) {
	var out MappingLink
	if err := checkID("connection id", connectionID); err != nil {
		return out, err
	}
	_, err := c.call(ctx, http.MethodPost, c.endpoint("v1", "connections", connectionID, "mapping-links"), nil, &out)
	return out, err
}
