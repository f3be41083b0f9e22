package api

import (
	"errors"
	"github.com/grantd/grantd/internal/httpapi"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

// registerTenancyRoutes adds the routes of tenant API keys and tenant
// deletion. A tenant manages its own keys; the admin key any tenant's.
func (s *Server) registerTenancyRoutes() {
	s.handle("POST /v1/tenants/{id}/keys", authAny, s.createKey)
	s.handle("GET /v1/tenants/{id}/keys", authAny, s.listKeys)
	s.handle("DELETE /v1/tenants/{id}/keys/{key_id}", authAny, s.revokeKey)
	s.handle("DELETE /v1/tenants/{id}", authAdmin, s.deleteTenant)
}

// apiKeyJSON is an API key as the API shows it: never the key or its hash.
type apiKeyJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
}

func toAPIKeyJSON(k store.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt}
}

type createKeyRequest struct {
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
}

type createKeyJSON struct {
	Key    apiKeyJSON `json:"key"`
	APIKey string     `json:"api_key"`
}

type listKeysJSON struct {
	Keys []apiKeyJSON `json:"keys"`
}

// keysTenant returns the tenant whose keys the request names: the
// caller's own, or any existing tenant for the admin. Another tenant's id
// is not found, like an unknown one.
func (s *Server) keysTenant(r *http.Request) (string, error) {
	id := r.PathValue("id")
	info := httpapi.InfoFrom(r.Context())
	notFound := &httpapi.Error{Status: http.StatusNotFound, Code: codeNotFound, Message: "tenant " + id + " not found"}
	if info == nil || (!info.Principal.Admin && info.Principal.TenantID != id) {
		return "", notFound
	}
	if info.Principal.Admin {
		if _, err := s.store.GetTenant(r.Context(), id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				notFound.Err = err
				return "", notFound
			}
			return "", err
		}
	}
	return id, nil
}

// createKey is POST /v1/tenants/{id}/keys: another API key for the
// tenant, shown only in this response. Earlier keys keep working, so a
// key is rotated by creating one, switching to it and revoking the old.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.keysTenant(r)
	if err != nil {
		return err
	}
	var req createKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	k, key, err := tenant.CreateKey(r.Context(), s.store, tenantID, tenant.KeyOptions{Name: req.Name, ExpiresAt: req.ExpiresAt}, s.now())
	if errors.Is(err, tenant.ErrInvalidKeyOptions) {
		return &httpapi.Error{Status: http.StatusBadRequest, Code: codeInvalidRequest, Message: err.Error()}
	}
	if err != nil {
		return err
	}
	w.Header()["Cache-Control"] = noStore
	return writeJSON(w, http.StatusCreated, createKeyJSON{Key: toAPIKeyJSON(k), APIKey: key})
}

// listKeys is GET /v1/tenants/{id}/keys.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.keysTenant(r)
	if err != nil {
		return err
	}
	ks, err := s.store.ListAPIKeys(r.Context(), tenantID)
	if err != nil {
		return err
	}
	out := listKeysJSON{Keys: make([]apiKeyJSON, 0, len(ks))}
	for _, k := range ks {
		out.Keys = append(out.Keys, toAPIKeyJSON(k))
	}
	return writeJSON(w, http.StatusOK, out)
}

// revokeKey is DELETE /v1/tenants/{id}/keys/{key_id}: the key stops
// working at once on this server and within the key cache TTL (5 s by
// default) on other replicas. Another tenant's key is not found.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.keysTenant(r)
	if err != nil {
		return err
	}
	keyID := r.PathValue("key_id")
	if err := tenant.RevokeKey(r.Context(), s.store, tenantID, keyID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &httpapi.Error{Status: http.StatusNotFound, Code: codeNotFound, Message: "key " + keyID + " not found", Err: err}
		}
		return err
	}
	s.keys.forget(keyID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
