package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// connectionJSON is a connection as the API shows it: never a token.
type connectionJSON struct {
	ID                   string    `json:"id"`
	TenantID             string    `json:"tenant_id"`
	IntegrationID        string    `json:"integration_id"`
	Provider             string    `json:"provider"`
	Status               string    `json:"status"`
	Subject              string    `json:"subject,omitempty"`
	Email                string    `json:"email,omitempty"`
	Scopes               []string  `json:"scopes"`
	AccessExpiresAt      time.Time `json:"access_expires_at,omitzero"`
	RefreshExpiresAt     time.Time `json:"refresh_expires_at,omitzero"`
	RefreshIdleExpiresAt time.Time `json:"refresh_idle_expires_at,omitzero"`
	LastRefreshAt        time.Time `json:"last_refresh_at,omitzero"`
	ConnectedAt          time.Time `json:"connected_at,omitzero"`
	Version              int64     `json:"version"`
	LastError            string    `json:"last_error,omitempty"`
	// RequestedScopes are what the authorization asked for; Scopes are
	// what the token response granted.
	RequestedScopes []string    `json:"requested_scopes,omitempty"`
	EndUser         endUserJSON `json:"end_user,omitzero"`
	Tags            []string    `json:"tags,omitempty"`
}

func toConnectionJSON(c store.Connection) connectionJSON {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return connectionJSON{
		ID:                   c.ID,
		TenantID:             c.TenantID,
		IntegrationID:        c.IntegrationID,
		Provider:             c.Provider,
		Status:               string(c.Status),
		Subject:              c.Subject,
		Email:                c.Email,
		Scopes:               scopes,
		AccessExpiresAt:      c.AccessExpiresAt,
		RefreshExpiresAt:     c.RefreshExpiresAt,
		RefreshIdleExpiresAt: c.RefreshIdleExpiresAt,
		LastRefreshAt:        c.LastRefreshAt,
		ConnectedAt:          c.ConnectedAt,
		Version:              c.Version,
		LastError:            c.LastError,
		RequestedScopes:      c.RequestedScopes,
		EndUser:              endUserJSON(c.EndUser),
		Tags:                 c.Tags,
	}
}

type listConnectionsJSON struct {
	Connections []connectionJSON `json:"connections"`
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	status, tag, endUser := q.Get("status"), q.Get("tag"), q.Get("end_user_id")
	switch store.Status(status) {
	case "", store.StatusActive, store.StatusNeedsReauth, store.StatusRevoked:
	default:
		return errorf(http.StatusBadRequest, codeInvalidRequest, "status must be active, needs_reauth or revoked")
	}
	cs, err := s.broker.Connections(r.Context(), callerTenant(r))
	if err != nil {
		return err
	}
	out := listConnectionsJSON{Connections: make([]connectionJSON, 0, len(cs))}
	for _, c := range cs {
		if status != "" && string(c.Status) != status ||
			tag != "" && !slices.Contains(c.Tags, tag) ||
			endUser != "" && c.EndUser.ID != endUser {
			continue
		}
		out.Connections = append(out.Connections, toConnectionJSON(c))
	}
	return writeJSON(w, http.StatusOK, out)
}

type createConnectionJSON struct {
	IntegrationID string `json:"integration_id"`
	// Scopes are the connection's own scopes: for a partner_refresh_bearer
	// integration (Daxko) the one client it acts for, ["client:9999"].
	Scopes []string `json:"scopes"`
}

// createConnection connects an integration that needs no user: client
// credentials (Pax8 partner API credentials, a vendor audience) or a
// partner token (Daxko, one connection per Daxko client named in scopes).
// No consent page; the first token is requested at once.
func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) error {
	var in createConnectionJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.IntegrationID == "" {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "integration_id is required")
	}
	c, err := s.broker.ConnectClient(r.Context(), callerTenant(r), in.IntegrationID, in.Scopes...)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toConnectionJSON(c))
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.broker.Connection(r.Context(), callerTenant(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toConnectionJSON(c))
}

// deleteConnection disconnects and says in Grantd-Revoked whether the grant
// was also revoked at the provider (RFC 7009). The status stays 204, as
// before revocation existed.
func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	revoked, err := s.broker.Disconnect(r.Context(), callerTenant(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Grantd-Revoked", strconv.FormatBool(revoked))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type eventJSON struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Detail    string    `json:"detail,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

type listEventsJSON struct {
	Events []eventJSON `json:"events"`
}

const (
	defaultEventLimit = 50
	maxEventLimit     = 500
)

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	limit := defaultEventLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventLimit {
			return errorf(http.StatusBadRequest, codeInvalidRequest, "limit must be an integer from 1 to "+strconv.Itoa(maxEventLimit))
		}
		limit = n
	}
	es, err := s.broker.Events(r.Context(), callerTenant(r), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	out := listEventsJSON{Events: make([]eventJSON, 0, len(es))}
	for _, e := range es {
		out.Events = append(out.Events, eventJSON{ID: e.ID, Kind: e.Kind, Detail: e.Detail, CreatedAt: e.CreatedAt})
	}
	return writeJSON(w, http.StatusOK, out)
}
