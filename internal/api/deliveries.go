package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/internal/store"
)

// The webhook outbox as the API shows it: GET /v1/webhook-deliveries and
// POST /v1/webhook-deliveries/{id}/redeliver. A tenant key sees and
// redelivers its own tenant's deliveries only (another's is 404); the admin
// key sees every tenant's, or one tenant's with X-Grantd-Tenant.

// deliveryJSON is one delivery. Payload is the exact, token-free body
// posted; the endpoint is its outbox key (a hash of its URL), never the
// URL or its secret.
type deliveryJSON struct {
	ID            string          `json:"id"`
	TenantID      string          `json:"tenant_id,omitempty"`
	Endpoint      string          `json:"endpoint"`
	EventID       string          `json:"event_id"`
	EventType     string          `json:"event_type"`
	State         string          `json:"state"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt time.Time       `json:"next_attempt_at,omitzero"`
	LastError     string          `json:"last_error,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	FinishedAt    time.Time       `json:"finished_at,omitzero"`
	Payload       json.RawMessage `json:"payload"`
}

func toDeliveryJSON(d store.Delivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, TenantID: d.TenantID, Endpoint: d.Endpoint, EventID: d.EventID, EventType: d.EventType,
		State: string(d.State), Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt,
		FinishedAt: d.FinishedAt, Payload: json.RawMessage(d.Payload)}
	if d.State == store.DeliveryPending {
		out.NextAttemptAt = d.NextAttemptAt
	}
	if !json.Valid(out.Payload) {
		out.Payload = json.RawMessage("null")
	}
	return out
}

type listDeliveriesJSON struct {
	Deliveries []deliveryJSON `json:"deliveries"`
	// NextAfter is the cursor of the next page (pass it as after), absent
	// on the last page.
	NextAfter string `json:"next_after,omitempty"`
}

const (
	defaultDeliveryLimit = 100
	maxDeliveryLimit     = 500
)

// deliveryScope is the filter of the caller's deliveries: its tenant's,
// or for the admin key every tenant's (one tenant's with X-Grantd-Tenant).
func (s *Server) deliveryScope(r *http.Request) (store.DeliveryFilter, error) {
	info := httpapi.InfoFrom(r.Context())
	if info == nil {
		return store.DeliveryFilter{}, errors.New("api: no request info")
	}
	if !info.Principal.Admin {
		return store.DeliveryFilter{TenantID: info.Principal.TenantID}, nil
	}
	if r.Header.Get(TenantHeader) == "" {
		return store.DeliveryFilter{AllTenants: true}, nil
	}
	id, err := s.tenantOf(r, caller{admin: true})
	if err != nil {
		return store.DeliveryFilter{}, err
	}
	return store.DeliveryFilter{TenantID: id}, nil
}

// listDeliveries is GET /v1/webhook-deliveries: the caller's deliveries in
// id order, filtered by state and endpoint, a page of limit (default 100,
// at most 500) after the cursor after.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	f, err := s.deliveryScope(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var ds []httpapi.Detail
	bad := func(field, msg string) {
		ds = append(ds, httpapi.Detail{Field: field, Reason: httpapi.ReasonInvalidValue, Message: msg})
	}
	switch st := store.DeliveryState(q.Get("state")); st {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
		f.State = st
	default:
		bad("state", "state must be pending, delivered or failed")
	}
	f.Endpoint, f.After = q.Get("endpoint"), q.Get("after")
	f.Limit = defaultDeliveryLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeliveryLimit {
			bad("limit", fmt.Sprintf("limit must be an integer from 1 to %d", maxDeliveryLimit))
		}
		f.Limit = n
	}
	if len(ds) > 0 {
		return &httpapi.Error{Status: http.StatusBadRequest, Code: codeInvalidRequest, Message: ds[0].Message, Details: ds}
	}
	got, err := s.store.ListDeliveries(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list deliveries: %w", err)
	}
	out := listDeliveriesJSON{Deliveries: make([]deliveryJSON, 0, len(got))}
	for _, d := range got {
		out.Deliveries = append(out.Deliveries, toDeliveryJSON(d))
	}
	if len(got) == f.Limit {
		out.NextAfter = got[len(got)-1].ID
	}
	return writeJSON(w, http.StatusOK, out)
}

// redeliverDelivery is POST /v1/webhook-deliveries/{id}/redeliver: the
// delivery is made pending and due at once, with its attempts reset and
// its id kept (receivers deduplicate by Grantd-Delivery), whatever its
// state; the sender posts it at its next poll. Another tenant's is 404.
func (s *Server) redeliverDelivery(w http.ResponseWriter, r *http.Request) error {
	f, err := s.deliveryScope(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	notFound := &httpapi.Error{Status: http.StatusNotFound, Code: codeNotFound, Message: "webhook delivery " + id + " not found"}
	d, err := s.store.GetDelivery(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !f.AllTenants && d.TenantID != f.TenantID) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("get delivery %s: %w", id, err)
	}
	d, err = s.store.RedeliverDelivery(r.Context(), id, s.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("redeliver %s: %w", id, err)
	}
	return writeJSON(w, http.StatusOK, toDeliveryJSON(d))
}
