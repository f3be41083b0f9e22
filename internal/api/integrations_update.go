package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// An integration's lifecycle after POST /v1/integrations: GET, PATCH and
// DELETE /v1/integrations/{id}. A tenant key manages the tenant's own
// integrations; the admin key manages the operator's (and a tenant's when
// it names one in X-Grantd-Tenant). Another owner's integration is 404.

// savedIntegrationJSON is the answer of a create or update: the
// integration, and whether its credentials were checked with the vendor.
type savedIntegrationJSON struct {
	integrationJSON
	// CredentialsChecked says the vendor issued a token with the saved
	// credentials; false for grants that cannot be checked without a
	// user, with CredentialsCheck saying why.
	CredentialsChecked bool   `json:"credentials_checked"`
	CredentialsCheck   string `json:"credentials_check,omitempty"`
}

// uncheckedNote is what a save of an authorization-code integration says.
const uncheckedNote = "not checked: an authorization-code client secret can only be checked when a user connects; a wrong one fails that connect with provider_rejected_credentials and marks the integration broken"

// integrationFields are the values of a create or update that are checked
// together, so that one answer lists every problem.
type integrationFields struct {
	ClientID     string
	ClientSecret *string
	PartnerToken *string
	Name         string
	RedirectURI  string
	Scopes       []string
}

const (
	maxFieldLen = 512
	maxScopes   = 50
)

// problems returns every problem of f for provider p, as [httpapi.Detail]
// values naming the field by JSON Pointer; devMode allows http redirect
// URIs on loopback hosts.
func problems(p provider.Provider, f *integrationFields, devMode bool) []httpapi.Detail {
	var ds []httpapi.Detail
	bad := func(field, msg string) {
		ds = append(ds, httpapi.Detail{Field: field, Reason: httpapi.ReasonInvalidValue, Message: msg})
	}
	f.ClientID = strings.TrimSpace(f.ClientID)
	f.Name = strings.TrimSpace(f.Name)
	switch {
	case f.ClientID == "":
		bad("/client_id", "client_id is required")
	case len(f.ClientID) > maxFieldLen:
		bad("/client_id", fmt.Sprintf("client_id is longer than %d bytes", maxFieldLen))
	case strings.ContainsAny(f.ClientID, "\r\n\t "):
		bad("/client_id", "client_id must not contain whitespace")
	}
	switch {
	case f.ClientSecret == nil:
	case *f.ClientSecret == "":
		bad("/client_secret", "client_secret is required")
	case len(*f.ClientSecret) > maxFieldLen*8:
		bad("/client_secret", fmt.Sprintf("client_secret is longer than %d bytes", maxFieldLen*8))
	}
	if p.Name == "" {
		// An unknown provider is reported by the caller.
	} else if p.Grant == provider.PartnerRefreshBearer {
		if f.PartnerToken != nil && *f.PartnerToken == "" {
			bad("/partner_token", fmt.Sprintf("partner_token is required for provider %s", p.Name))
		} else if f.PartnerToken != nil && len(*f.PartnerToken) > maxFieldLen*8 {
			bad("/partner_token", fmt.Sprintf("partner_token is longer than %d bytes", maxFieldLen*8))
		}
	} else if f.PartnerToken != nil {
		bad("/partner_token", fmt.Sprintf("provider %s takes no partner_token", p.Name))
	}
	if len(f.Name) > 200 {
		bad("/name", "name is longer than 200 bytes")
	}
	if f.RedirectURI != "" {
		if err := provider.CheckURL(f.RedirectURI, devMode); err != nil {
			bad("/redirect_uri", "redirect_uri "+err.Error())
		}
	}
	if len(f.Scopes) > maxScopes {
		bad("/scopes", fmt.Sprintf("at most %d scopes", maxScopes))
	}
	for i, sc := range f.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			bad(fmt.Sprintf("/scopes/%d", i), fmt.Sprintf("scope %q is not a valid scope token (RFC 6749 §3.3)", sc))
		}
	}
	return ds
}

// invalid is the 400 that lists every problem.
func invalid(ds []httpapi.Detail) error {
	msg := ds[0].Message
	if len(ds) > 1 {
		msg = fmt.Sprintf("the integration has %d problems; see details", len(ds))
	}
	return &httpapi.Error{Status: http.StatusBadRequest, Code: codeInvalidRequest, Message: msg, Details: ds}
}

// checkCredentials asks the vendor for a token with in's credentials where
// the grant allows it (client credentials, partner token). It returns
// whether they were checked and, when not, why; a refusal is a 422
// provider_rejected_credentials and a vendor that cannot tell is a 503,
// and in both cases the caller saves nothing.
func (s *Server) checkCredentials(ctx context.Context, in store.Integration) (bool, string, error) {
	err := s.broker.CheckCredentials(ctx, in)
	switch broker.CodeOf(err) {
	case "":
		if err != nil {
			return false, "", err
		}
		return true, "", nil
	case broker.CodeUnsupportedGrant:
		return false, uncheckedNote, nil
	}
	return false, "", err
}

// ownedIntegration returns the integration {id} if the caller manages it:
// a tenant its own, the admin the operator's (or, with X-Grantd-Tenant,
// that tenant's).
func (s *Server) ownedIntegration(r *http.Request) (store.Integration, error) {
	id := r.PathValue("id")
	owner, err := s.integrationOwner(r)
	if err != nil {
		return store.Integration{}, err
	}
	in, err := s.store.GetIntegration(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && in.TenantID != owner) {
		return store.Integration{}, &httpapi.Error{Status: http.StatusNotFound, Code: codeNotFound, Message: "integration " + id + " not found", Err: err}
	}
	if err != nil {
		return store.Integration{}, fmt.Errorf("get integration %s: %w", id, err)
	}
	return in, nil
}

// integrationOwner is the TenantID of the integrations the caller
// manages: its own tenant, or "" (the operator) for the admin key without
// X-Grantd-Tenant.
func (s *Server) integrationOwner(r *http.Request) (string, error) {
	info := httpapi.InfoFrom(r.Context())
	if info == nil {
		return "", errors.New("api: no request info")
	}
	if !info.Principal.Admin {
		return info.Principal.TenantID, nil
	}
	if r.Header.Get(TenantHeader) == "" {
		return "", nil
	}
	return s.tenantOf(r, caller{admin: true})
}

// getIntegration is GET /v1/integrations/{id}.
func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request) error {
	in, err := s.ownedIntegration(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toIntegrationJSON(in))
}

// updateIntegrationRequest is the body of PATCH /v1/integrations/{id}:
// every field is optional, and an absent one is kept. The provider cannot
// change.
type updateIntegrationRequest struct {
	Name         *string   `json:"name"`
	ClientID     *string   `json:"client_id"`
	ClientSecret *string   `json:"client_secret"`
	PartnerToken *string   `json:"partner_token"`
	RedirectURI  *string   `json:"redirect_uri"`
	Scopes       *[]string `json:"scopes"`
	Audience     *string   `json:"audience"`
	IsDefault    *bool     `json:"is_default"`
}

// updateIntegration is PATCH /v1/integrations/{id}. New credentials
// (client id, secret, partner token, audience) are checked with the vendor
// before anything is saved where the grant allows it; a refused secret is
// 422 provider_rejected_credentials and changes nothing. Making it default
// unsets the owner's previous default for the provider.
func (s *Server) updateIntegration(w http.ResponseWriter, r *http.Request) error {
	if s.vault == nil {
		return &httpapi.Error{Status: http.StatusNotImplemented, Code: httpapi.CodeNotImplemented, Message: "this server cannot store client secrets", Err: errNoVault}
	}
	in, err := s.ownedIntegration(r)
	if err != nil {
		return err
	}
	var req updateIntegrationRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	p, ok := s.broker.Providers().Get(in.Provider)
	if !ok {
		return errorf(http.StatusBadRequest, codeInvalidRequest, fmt.Sprintf("provider %q is no longer configured; the integration can only be deleted", in.Provider))
	}
	next := in
	f := integrationFields{ClientID: in.ClientID, Name: in.Name, ClientSecret: req.ClientSecret, PartnerToken: req.PartnerToken, Scopes: in.Scopes}
	if req.ClientID != nil {
		f.ClientID = *req.ClientID
	}
	if req.Name != nil {
		f.Name = *req.Name
	}
	if req.RedirectURI != nil {
		f.RedirectURI = *req.RedirectURI
	}
	if req.Scopes != nil {
		f.Scopes = *req.Scopes
	}
	if ds := problems(p, &f, s.devMode()); len(ds) > 0 {
		return invalid(ds)
	}
	next.ClientID, next.Name, next.Scopes = f.ClientID, f.Name, f.Scopes
	if next.Name == "" {
		next.Name = p.DisplayName
	}
	if next.Scopes == nil {
		next.Scopes = p.Scopes
	}
	if req.RedirectURI != nil {
		next.RedirectURI = *req.RedirectURI
		if next.RedirectURI == "" {
			next.RedirectURI = s.broker.PublicURL() + "/oauth/callback/" + in.ID
		}
	}
	if req.Audience != nil {
		next.Audience = *req.Audience
	}
	if req.IsDefault != nil {
		next.IsDefault = *req.IsDefault
	}
	if req.ClientSecret != nil {
		if next.ClientSecret, err = s.vault.Seal([]byte(*req.ClientSecret), vault.AAD("integration", in.ID, "client_secret")); err != nil {
			return fmt.Errorf("seal client secret: %w", err)
		}
	}
	if req.PartnerToken != nil {
		if next.PartnerToken, err = s.vault.Seal([]byte(*req.PartnerToken), vault.AAD("integration", in.ID, "partner_token")); err != nil {
			return fmt.Errorf("seal partner token: %w", err)
		}
	}
	credsChanged := req.ClientID != nil || req.ClientSecret != nil || req.PartnerToken != nil || req.Audience != nil || req.Scopes != nil
	out := savedIntegrationJSON{}
	if credsChanged {
		checked, note, err := s.checkCredentials(r.Context(), next)
		if err != nil {
			return err
		}
		out.CredentialsChecked, out.CredentialsCheck = checked, note
		if checked {
			next.LastError, next.BrokenAt = "", time.Time{}
		}
	} else {
		out.CredentialsCheck = "not checked: no credential changed"
	}
	now := s.now().UTC()
	next.UpdatedAt = now
	if err := s.store.UpdateIntegration(r.Context(), in.ID, func(cur store.Integration) (store.Integration, error) {
		if !cur.UpdatedAt.Equal(in.UpdatedAt) {
			return cur, store.ErrConflict
		}
		return next, nil
	}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &httpapi.Error{Status: http.StatusConflict, Code: httpapi.CodeAlreadyExists, Message: "the integration changed while it was being updated; read it and try again", Err: err}
		}
		return fmt.Errorf("update integration %s: %w", in.ID, err)
	}
	if next.IsDefault && !in.IsDefault {
		if err := s.clearOtherDefaults(r, next); err != nil {
			return err
		}
	}
	out.integrationJSON = toIntegrationJSON(next)
	return writeJSON(w, http.StatusOK, out)
}

// deleteIntegrationJSON is the answer of DELETE /v1/integrations/{id}.
type deleteIntegrationJSON struct {
	ID                 string `json:"id"`
	Deleted            bool   `json:"deleted"`
	ConnectionsDeleted int    `json:"connections_deleted"`
	// ConnectionsRevoked counts the connections whose grant the vendor
	// confirmed revoked (RFC 7009); the others were deleted here only.
	ConnectionsRevoked int `json:"connections_revoked"`
}

// deleteIntegration is DELETE /v1/integrations/{id}. An integration that
// connections use is refused with 409 integration_in_use unless
// ?cascade=true, which disconnects each of them as DELETE
// /v1/connections/{id} does (revoking the grant at the vendor where it
// can) before deleting the integration.
func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request) error {
	in, err := s.ownedIntegration(r)
	if err != nil {
		return err
	}
	cascade := false
	switch v := r.URL.Query().Get("cascade"); v {
	case "", "false":
	case "true":
		cascade = true
	default:
		return &httpapi.Error{Status: http.StatusBadRequest, Code: codeInvalidRequest, Message: "cascade must be true or false",
			Details: []httpapi.Detail{{Field: "cascade", Reason: httpapi.ReasonInvalidValue, Message: "cascade must be true or false"}}}
	}
	cs, err := s.store.ListConnections(r.Context(), store.ConnectionFilter{TenantID: in.TenantID})
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	var using []store.Connection
	for _, c := range cs {
		if c.IntegrationID == in.ID {
			using = append(using, c)
		}
	}
	if len(using) > 0 && !cascade {
		return &httpapi.Error{Status: http.StatusConflict, Code: httpapi.CodeInUse,
			Message: fmt.Sprintf("%d connections use integration %s; delete them first or send ?cascade=true to revoke and delete them", len(using), in.ID)}
	}
	out := deleteIntegrationJSON{ID: in.ID}
	for _, c := range using {
		revoked, err := s.broker.Disconnect(r.Context(), c.TenantID, c.ID)
		if err != nil && broker.CodeOf(err) != broker.CodeNotFound {
			return fmt.Errorf("disconnect %s: %w", c.ID, err)
		}
		out.ConnectionsDeleted++
		if revoked {
			out.ConnectionsRevoked++
		}
	}
	if err := s.store.DeleteIntegration(r.Context(), in.ID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &httpapi.Error{Status: http.StatusConflict, Code: httpapi.CodeInUse, Message: "a connection was made with the integration while it was being deleted; try again", Err: err}
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete integration %s: %w", in.ID, err)
		}
	}
	out.Deleted = true
	return writeJSON(w, http.StatusOK, out)
}

// devMode reports whether the server allows http URLs on loopback hosts
// (a public URL on http, which only dev mode accepts).
func (s *Server) devMode() bool { return strings.HasPrefix(s.broker.PublicURL(), "http://") }
