package console

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

type integrationsData struct {
	Rows      []store.Integration
	Providers []string
	Tenants   []store.Tenant
}

// visibleIntegrations returns what the viewer may manage: a tenant's own
// integrations, or, for the operator, every tenant's and the operator's.
func (c *Console) visibleIntegrations(r *http.Request, v viewer) ([]store.Integration, error) {
	if !v.Admin {
		all, err := c.opts.Store.ListIntegrations(r.Context(), v.TenantID)
		var own []store.Integration
		for _, in := range all {
			if in.TenantID == v.TenantID {
				own = append(own, in)
			}
		}
		return own, err
	}
	out, err := c.opts.Store.ListIntegrations(r.Context(), "")
	if err != nil {
		return nil, err
	}
	ts, err := c.opts.Store.ListTenants(r.Context())
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		ins, err := c.opts.Store.ListIntegrations(r.Context(), t.ID)
		if err != nil {
			return nil, err
		}
		for _, in := range ins {
			if in.TenantID != "" {
				out = append(out, in)
			}
		}
	}
	return out, nil
}

// integrations lists the viewer's integrations with a form to add one.
func (c *Console) integrations(w http.ResponseWriter, r *http.Request, v viewer) error {
	rows, err := c.visibleIntegrations(r, v)
	if err != nil {
		return err
	}
	d := integrationsData{Rows: rows}
	for _, p := range c.opts.Broker.Providers().All() {
		d.Providers = append(d.Providers, p.Name)
	}
	if v.Admin {
		if d.Tenants, err = c.opts.Store.ListTenants(r.Context()); err != nil {
			return err
		}
	}
	c.render(w, r, http.StatusOK, "integrations", v, "Integrations", d)
	return nil
}

// loadIntegration returns the integration id if the viewer may manage it
// (a tenant only its own); otherwise the same not found as an unknown id.
func (c *Console) loadIntegration(r *http.Request, v viewer) (store.Integration, error) {
	in, err := c.opts.Store.GetIntegration(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !v.Admin && in.TenantID != v.TenantID) {
		return store.Integration{}, errNotFound
	}
	return in, err
}

// integration shows the edit form.
func (c *Console) integration(w http.ResponseWriter, r *http.Request, v viewer) error {
	in, err := c.loadIntegration(r, v)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "integration", v, "Integration "+in.Name, in)
	return nil
}

// integrationForm reads and checks the fields the create and edit forms
// share.
type integrationForm struct {
	Name, ClientID, Secret string
	Scopes                 []string
	Default                bool
}

func readIntegrationForm(r *http.Request, secretRequired bool) (integrationForm, error) {
	f := integrationForm{
		Name:     strings.TrimSpace(r.PostForm.Get("name")),
		ClientID: strings.TrimSpace(r.PostForm.Get("client_id")),
		Secret:   r.PostForm.Get("client_secret"),
		Scopes:   strings.Fields(r.PostForm.Get("scopes")),
		Default:  r.PostForm.Get("is_default") == "on",
	}
	switch {
	case f.ClientID == "":
		return f, badInput("Client ID is required.")
	case strings.ContainsAny(f.ClientID, " \t\r\n"):
		return f, badInput("Client ID must not contain spaces.")
	case secretRequired && f.Secret == "":
		return f, badInput("Client secret is required.")
	case len(f.Name) > 200, len(f.ClientID) > 512, len(f.Secret) > 4096, len(f.Scopes) > 50:
		return f, badInput("A field is too long.")
	}
	return f, nil
}

// createIntegration adds an integration: the tenant's own, or for the
// operator, one for the tenant chosen in the form (none: the operator's).
func (c *Console) createIntegration(w http.ResponseWriter, r *http.Request, v viewer) error {
	if c.opts.Vault == nil {
		return badInput("This server cannot store client secrets.")
	}
	f, err := readIntegrationForm(r, true)
	if err != nil {
		return err
	}
	p, ok := c.opts.Broker.Providers().Get(r.PostForm.Get("provider"))
	if !ok {
		return badInput("Choose a configured provider.")
	}
	tenantID := v.TenantID
	if v.Admin {
		tenantID = r.PostForm.Get("tenant")
		if tenantID != "" {
			if _, err := c.opts.Store.GetTenant(r.Context(), tenantID); err != nil {
				return badInput("Choose an existing tenant.")
			}
		}
	}
	now := c.now().UTC()
	in := store.Integration{
		ID: "int_" + strings.ToLower(rand.Text()[:20]), TenantID: tenantID, Provider: p.Name,
		Name: f.Name, ClientID: f.ClientID, Scopes: f.Scopes, Audience: p.Audience,
		IsDefault: f.Default, CreatedAt: now, UpdatedAt: now,
	}
	if in.Name == "" {
		in.Name = p.DisplayName
	}
	if len(in.Scopes) == 0 {
		in.Scopes = p.Scopes
	}
	in.RedirectURI = c.opts.Broker.PublicURL() + "/oauth/callback/" + in.ID
	if in.ClientSecret, err = c.opts.Vault.Seal([]byte(f.Secret), vault.AAD("integration", in.ID, "client_secret")); err != nil {
		return err
	}
	if err := c.opts.Store.CreateIntegration(r.Context(), in); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/integrations/"+in.ID, http.StatusSeeOther)
	return nil
}

// updateIntegration saves the edit form; an empty secret keeps the
// stored one.
func (c *Console) updateIntegration(w http.ResponseWriter, r *http.Request, v viewer) error {
	in, err := c.loadIntegration(r, v)
	if err != nil {
		return err
	}
	f, err := readIntegrationForm(r, false)
	if err != nil {
		return err
	}
	var sealed store.Sealed
	if f.Secret != "" {
		if c.opts.Vault == nil {
			return badInput("This server cannot store client secrets.")
		}
		if sealed, err = c.opts.Vault.Seal([]byte(f.Secret), vault.AAD("integration", in.ID, "client_secret")); err != nil {
			return err
		}
	}
	err = c.opts.Store.UpdateIntegration(r.Context(), in.ID, func(cur store.Integration) (store.Integration, error) {
		if f.Name != "" {
			cur.Name = f.Name
		}
		cur.ClientID = f.ClientID
		if len(f.Scopes) > 0 {
			cur.Scopes = f.Scopes
		}
		cur.IsDefault = f.Default
		if sealed != nil {
			cur.ClientSecret = sealed
		}
		cur.UpdatedAt = c.now().UTC()
		return cur, nil
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/integrations", http.StatusSeeOther)
	return nil
}

// deleteIntegration removes an integration no connection uses.
func (c *Console) deleteIntegration(w http.ResponseWriter, r *http.Request, v viewer) error {
	in, err := c.loadIntegration(r, v)
	if err != nil {
		return err
	}
	if err := c.opts.Store.DeleteIntegration(r.Context(), in.ID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &pageError{Status: http.StatusConflict, Message: "Connections still use this integration: disconnect them first.", Err: err}
		}
		return err
	}
	http.Redirect(w, r, "/console/integrations", http.StatusSeeOther)
	return nil
}
