package api

import (
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/broker"
)

type connectSessionRequest struct {
	Provider      string `json:"provider"`
	IntegrationID string `json:"integration_id"`
	ReturnTo      string `json:"return_to"`
	ConnectionID  string `json:"connection_id"`
	// AllowAccountChange lets a reauthorization (connection_id) come back
	// with another vendor account.
	AllowAccountChange bool `json:"allow_account_change"`
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
	if req.Provider == "" && req.IntegrationID == "" {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "provider or integration_id is required")
	}
	l, err := s.broker.CreateLink(r.Context(), callerTenant(r), broker.LinkRequest{
		IntegrationID: req.IntegrationID,
		Provider:      req.Provider,
		ReturnTo:      req.ReturnTo,
		ConnectionID:  req.ConnectionID,

		AllowAccountChange: req.AllowAccountChange,
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
