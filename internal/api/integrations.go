package api

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// integrationJSON is an integration as the API shows it: never the client
// secret, only whether there is one.
type integrationJSON struct {
	ID              string    `json:"id"`
	Owner           string    `json:"owner"` // "tenant" or "operator"
	TenantID        string    `json:"tenant_id,omitempty"`
	Provider        string    `json:"provider"`
	Name            string    `json:"name"`
	ClientID        string    `json:"client_id"`
	HasClientSecret bool      `json:"has_client_secret"`
	RedirectURI     string    `json:"redirect_uri"`
	Scopes          []string  `json:"scopes"`
	Audience        string    `json:"audience,omitempty"`
	IsDefault       bool      `json:"is_default"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
	// LastError and BrokenAt say the vendor refused the integration's
	// credentials, why and since when; absent while they work.
	LastError string    `json:"last_error,omitempty"`
	BrokenAt  time.Time `json:"broken_at,omitzero"`
}

func toIntegrationJSON(in store.Integration) integrationJSON {
	owner := "operator"
	if in.TenantID != "" {
		owner = "tenant"
	}
	scopes := in.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return integrationJSON{
		ID:              in.ID,
		Owner:           owner,
		TenantID:        in.TenantID,
		Provider:        in.Provider,
		Name:            in.Name,
		ClientID:        in.ClientID,
		HasClientSecret: len(in.ClientSecret) > 0,
		RedirectURI:     in.RedirectURI,
		Scopes:          scopes,
		Audience:        in.Audience,
		IsDefault:       in.IsDefault,
		CreatedAt:       in.CreatedAt,
		UpdatedAt:       in.UpdatedAt,
		LastError:       in.LastError,
		BrokenAt:        in.BrokenAt,
	}
}

type listIntegrationsJSON struct {
	Integrations []integrationJSON `json:"integrations"`
}

// listIntegrations is GET /v1/integrations: the tenant's own integrations
// and the operator's that it may use (see [broker.Broker.MayUse]).
func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) error {
	ins, err := s.broker.Integrations(r.Context(), callerTenant(r))
	if err != nil {
		return err
	}
	out := listIntegrationsJSON{Integrations: make([]integrationJSON, 0, len(ins))}
	for _, in := range ins {
		out.Integrations = append(out.Integrations, toIntegrationJSON(in))
	}
	return writeJSON(w, http.StatusOK, out)
}

type createIntegrationRequest struct {
	Provider     string   `json:"provider"`
	Name         string   `json:"name"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	PartnerToken *string  `json:"partner_token"`
	RedirectURI  string   `json:"redirect_uri"`
	Scopes       []string `json:"scopes"`
	Audience     *string  `json:"audience"`
	IsDefault    bool     `json:"is_default"`
}

// createIntegration is POST /v1/integrations: the tenant registers its own
// OAuth client (seeds/002). Every problem of the input is listed at once
// (400 with details); credentials are checked with the vendor where the
// grant allows it (client credentials, partner token), and a refused
// secret is 422 provider_rejected_credentials; in both cases nothing is
// saved. The secret is sealed with AAD "integration:<id>:client_secret"
// before it is stored. is_default makes it the tenant's default for the
// provider, unsetting the previous one; a non-default integration is used
// only when named by id.
func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request) error {
	if s.vault == nil {
		return &httpapi.Error{Status: http.StatusNotImplemented, Code: httpapi.CodeNotImplemented, Message: "this server cannot store client secrets", Err: errNoVault}
	}
	var req createIntegrationRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	tenantID := callerTenant(r)
	p, ok := s.broker.Providers().Get(req.Provider)
	var ds []httpapi.Detail
	switch {
	case req.Provider == "":
		ds = append(ds, httpapi.Detail{Field: "/provider", Reason: httpapi.ReasonInvalidValue, Message: "provider is required"})
	case !ok:
		ds = append(ds, httpapi.Detail{Field: "/provider", Reason: httpapi.ReasonInvalidValue, Message: fmt.Sprintf("provider %q is not configured; see GET /v1/providers", req.Provider)})
	}
	f := integrationFields{ClientID: req.ClientID, ClientSecret: &req.ClientSecret, PartnerToken: req.PartnerToken,
		Name: req.Name, RedirectURI: req.RedirectURI, Scopes: req.Scopes}
	if p.Grant == provider.PartnerRefreshBearer && f.PartnerToken == nil {
		empty := ""
		f.PartnerToken = &empty
	}
	ds = append(ds, problems(p, &f, s.devMode())...)
	if len(ds) > 0 {
		return invalid(ds)
	}
	if err := s.broker.CheckIntegrationQuota(r.Context(), tenantID); err != nil {
		return err
	}
	now := s.now().UTC()
	in := store.Integration{
		ID:        "int_" + strings.ToLower(rand.Text()[:20]),
		TenantID:  tenantID,
		Provider:  p.Name,
		Name:      f.Name,
		ClientID:  f.ClientID,
		Scopes:    req.Scopes,
		IsDefault: req.IsDefault,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if in.Name == "" {
		in.Name = p.DisplayName
	}
	if in.Scopes == nil {
		in.Scopes = p.Scopes
	}
	in.Audience = p.Audience
	if req.Audience != nil {
		in.Audience = *req.Audience
	}
	in.RedirectURI = req.RedirectURI
	if in.RedirectURI == "" {
		in.RedirectURI = s.broker.PublicURL() + "/oauth/callback/" + in.ID
	}
	sealed, err := s.vault.Seal([]byte(req.ClientSecret), vault.AAD("integration", in.ID, "client_secret"))
	if err != nil {
		return fmt.Errorf("seal client secret: %w", err)
	}
	in.ClientSecret = sealed
	if req.PartnerToken != nil {
		if in.PartnerToken, err = s.vault.Seal([]byte(*req.PartnerToken), vault.AAD("integration", in.ID, "partner_token")); err != nil {
			return fmt.Errorf("seal partner token: %w", err)
		}
	}
	checked, note, err := s.checkCredentials(r.Context(), in)
	if err != nil {
		return err
	}
	if err := s.store.CreateIntegration(r.Context(), in); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return &httpapi.Error{Status: http.StatusConflict, Code: httpapi.CodeAlreadyExists, Message: "the integration already exists", Err: err}
		}
		return fmt.Errorf("create integration: %w", err)
	}
	if in.IsDefault {
		if err := s.clearOtherDefaults(r, in); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusCreated, savedIntegrationJSON{integrationJSON: toIntegrationJSON(in), CredentialsChecked: checked, CredentialsCheck: note})
}

// clearOtherDefaults leaves in as the tenant's only default for its
// provider.
func (s *Server) clearOtherDefaults(r *http.Request, in store.Integration) error {
	all, err := s.store.ListIntegrations(r.Context(), in.TenantID)
	if err != nil {
		return fmt.Errorf("list integrations: %w", err)
	}
	for _, o := range all {
		if o.ID == in.ID || o.TenantID != in.TenantID || o.Provider != in.Provider || !o.IsDefault {
			continue
		}
		err := s.store.UpdateIntegration(r.Context(), o.ID, func(cur store.Integration) (store.Integration, error) {
			cur.IsDefault = false
			cur.UpdatedAt = s.now().UTC()
			return cur, nil
		})
		if err != nil {
			return fmt.Errorf("clear default of integration %s: %w", o.ID, err)
		}
	}
	return nil
}

type providerJSON struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Description string   `json:"description,omitempty"`
	Grant       string   `json:"grant"`
	Issuer      string   `json:"issuer,omitempty"`
	Scopes      []string `json:"scopes"`
	Audience    string   `json:"audience,omitempty"`
	APIBaseURL  string   `json:"api_base_url,omitempty"`
}

type listProvidersJSON struct {
	Providers []providerJSON `json:"providers"`
}

// listProviders is GET /v1/providers: what integrations can be made with.
// It is public: provider metadata holds no secret.
func (s *Server) listProviders(w http.ResponseWriter, r *http.Request) error {
	ps := s.broker.Providers().All()
	out := listProvidersJSON{Providers: make([]providerJSON, 0, len(ps))}
	for _, p := range ps {
		scopes := p.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		out.Providers = append(out.Providers, providerJSON{
			Name:        p.Name,
			DisplayName: p.DisplayName,
			Description: p.Description,
			Grant:       string(p.Grant),
			Issuer:      p.Issuer,
			Scopes:      scopes,
			Audience:    p.Audience,
			APIBaseURL:  p.API.BaseURL,
		})
	}
	return writeJSON(w, http.StatusOK, out)
}
