package api

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

type connectSessionRequest struct {
	Provider      string `json:"provider"`
	IntegrationID string `json:"integration_id"`
	ReturnTo      string `json:"return_to"`
	ConnectionID  string `json:"connection_id"`
	// AllowAccountChange lets a reauthorization (connection_id) come back
	// with another vendor account.
	AllowAccountChange bool `json:"allow_account_change"`
	// EndUser and Tags are the application's labels, stored on the
	// connection, filterable in GET /v1/connections and sent in webhooks.
	EndUser endUserJSON `json:"end_user,omitzero"`
	Tags    []string    `json:"tags,omitempty"`
}

// endUserJSON is the application's user a connection is for.
type endUserJSON struct {
	ID          string `json:"id,omitempty"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
}

type connectSessionJSON struct {
	ID            string    `json:"id"`
	URL           string    `json:"url"`
	ExpiresAt     time.Time `json:"expires_at"`
	IntegrationID string    `json:"integration_id"`
}

// createConnectSession is POST /v1/connect-sessions: a connect page URL the
// application sends its user to. The URL is shown once.
func (s *Server) createConnectSession(w http.ResponseWriter, r *http.Request) error {
	var req connectSessionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Provider == "" && req.IntegrationID == "" && req.ConnectionID == "" {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "provider, integration_id or connection_id is required")
	}
	l, err := s.broker.CreateLink(r.Context(), callerTenant(r), broker.LinkRequest{
		IntegrationID: req.IntegrationID,
		Provider:      req.Provider,
		ReturnTo:      req.ReturnTo,
		ConnectionID:  req.ConnectionID,

		AllowAccountChange: req.AllowAccountChange,
		EndUser:            store.EndUser(req.EndUser),
		Tags:               req.Tags,
	})
	if err != nil {
		return err
	}
	w.Header()["Cache-Control"] = noStore
	return writeJSON(w, http.StatusCreated, connectSessionJSON{
		ID:            l.ID,
		URL:           l.URL,
		ExpiresAt:     l.ExpiresAt,
		IntegrationID: l.IntegrationID,
	})
}

type resultKeyJSON struct {
	// Key is the tenant's connect result key, base64url without padding.
	Key       string `json:"key"`
	Algorithm string `json:"algorithm"`
}

// connectResultKey is GET /v1/connect-result-key: the key the tenant's
// application verifies connect results with (package connectresult).
func (s *Server) connectResultKey(w http.ResponseWriter, r *http.Request) error {
	w.Header()["Cache-Control"] = noStore
	return writeJSON(w, http.StatusOK, resultKeyJSON{
		Key:       base64.RawURLEncoding.EncodeToString(s.broker.ResultKey(callerTenant(r))),
		Algorithm: "HMAC-SHA256",
	})
}
