package api

import (
	"net/http"
)

type deleteTenantJSON struct {
	ID          string `json:"id"`
	Connections int    `json:"connections"`
	// Revoked and RevocationFailed count the grants revoked, or not, at
	// their provider before the rows went.
	Revoked          int `json:"revoked"`
	RevocationFailed int `json:"revocation_failed"`
}

// deleteTenant is DELETE /v1/tenants/{id} (admin): each of the tenant's
// grants is revoked at its provider, then its rows are deleted (keys,
// integrations, links, connections, mappings); its keys stop working at
// once on this server. Events stay as history.
func (s *Server) deleteTenant(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	d, err := s.broker.DeleteTenant(r.Context(), id)
	if err != nil {
		return err
	}
	s.keys.forgetTenant(id)
	return writeJSON(w, http.StatusOK, deleteTenantJSON{
		ID: id, Connections: d.Connections, Revoked: d.Revoked, RevocationFailed: d.RevocationFailed,
	})
}
