package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

type tenantJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type createTenantRequest struct {
	Name string `json:"name"`
}

type createTenantJSON struct {
	Tenant tenantJSON `json:"tenant"`
	APIKey string     `json:"api_key"`
}

type listTenantsJSON struct {
	Tenants []tenantJSON `json:"tenants"`
}

func toTenantJSON(t store.Tenant) tenantJSON {
	return tenantJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
}

// createTenant is POST /v1/tenants (admin): a tenant and its first API
// key, which is shown only in this response.
func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) error {
	var req createTenantRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name) // as tenant.Create does
	if req.Name == "" {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "name is required")
	}
	if len(req.Name) > 200 {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "name is longer than 200 bytes")
	}
	t, key, err := tenant.Create(r.Context(), s.store, req.Name, s.now())
	if err != nil {
		return err
	}
	w.Header()["Cache-Control"] = noStore
	return writeJSON(w, http.StatusCreated, createTenantJSON{Tenant: toTenantJSON(t), APIKey: key})
}

// listTenants is GET /v1/tenants (admin).
func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.store.ListTenants(r.Context())
	if err != nil {
		return err
	}
	out := listTenantsJSON{Tenants: make([]tenantJSON, 0, len(ts))}
	for _, t := range ts {
		out.Tenants = append(out.Tenants, toTenantJSON(t))
	}
	return writeJSON(w, http.StatusOK, out)
}
