package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

type deliveriesPage struct {
	Deliveries []struct {
		ID            string         `json:"id"`
		TenantID      string         `json:"tenant_id"`
		State         string         `json:"state"`
		Attempts      int            `json:"attempts"`
		NextAttemptAt string         `json:"next_attempt_at"`
		Payload       map[string]any `json:"payload"`
	} `json:"deliveries"`
	NextAfter string `json:"next_after"`
}

func (p deliveriesPage) ids() []string {
	var ids []string
	for _, d := range p.Deliveries {
		ids = append(ids, d.ID)
	}
	return ids
}

// TestWebhookDeliveries: a tenant lists its own tenant's deliveries only,
// filtered by state and endpoint and a page at a time, and redelivers a
// failed one (pending again, due now); another tenant's is 404 to list and
// to redeliver (SEC-43); the admin lists every tenant's.
func TestWebhookDeliveries(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	tid, key := e.tenant("acme")
	otherID, keyB := e.tenant("b")
	now := time.Now().UTC()
	var ds []store.Delivery
	for i, spec := range []struct{ id, tenant, endpoint string }{
		{"dlv_a1", tid, "e1"}, {"dlv_a2", tid, "e2"}, {"dlv_a3", tid, "e1"}, {"dlv_b1", otherID, "e1"},
	} {
		ds = append(ds, store.Delivery{ID: spec.id, TenantID: spec.tenant, Endpoint: spec.endpoint, EventID: "evt_" + spec.id,
			EventType: "connected", Payload: []byte(`{"id":"evt_` + spec.id + `","type":"connected"}`), CreatedAt: now.Add(time.Duration(i) * time.Second)})
	}
	if _, err := e.st.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	claimed, err := e.st.ClaimDeliveries(ctx, "w", []string{"e2"}, now.Add(time.Hour), now.Add(2*time.Hour), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimDeliveries = %v, %v", claimed, err)
	}
	if err := e.st.FailDelivery(ctx, "dlv_a2", "w", now.Add(time.Hour), "answered 410"); err != nil {
		t.Fatal(err)
	}

	list := func(key, query string, header ...string) deliveriesPage {
		t.Helper()
		res := e.do("GET", "/v1/webhook-deliveries"+query, key, nil, header...)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", query, res.status, res.body)
		}
		return decodeJSON[deliveriesPage](t, res.body)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"dlv_a1", "dlv_a2", "dlv_a3"}},
		{"?state=failed", []string{"dlv_a2"}},
		{"?endpoint=e1", []string{"dlv_a1", "dlv_a3"}},
		{"?limit=2", []string{"dlv_a1", "dlv_a2"}},
		{"?limit=2&after=dlv_a2", []string{"dlv_a3"}},
	} {
		if diff := cmp.Diff(tc.want, list(key, tc.query).ids()); diff != "" {
			t.Errorf("GET %q (-want +got):\n%s", tc.query, diff)
		}
	}
	if p := list(key, "?limit=2"); p.NextAfter != "dlv_a2" {
		t.Errorf("next_after = %q, want dlv_a2", p.NextAfter)
	}
	if diff := cmp.Diff([]string{"dlv_b1"}, list(keyB, "").ids()); diff != "" {
		t.Errorf("other tenant's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dlv_a1", "dlv_a2", "dlv_a3", "dlv_b1"}, list(e.adminKey, "").ids()); diff != "" {
		t.Errorf("admin's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dlv_b1"}, list(e.adminKey, "", "X-Grantd-Tenant", otherID).ids()); diff != "" {
		t.Errorf("admin's list for one tenant (-want +got):\n%s", diff)
	}
	for _, q := range []string{"?state=lost", "?limit=0", "?limit=x"} {
		if res := e.do("GET", "/v1/webhook-deliveries"+q, key, nil); res.status != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", q, res.status)
		}
	}

	if res := e.do("POST", "/v1/webhook-deliveries/dlv_a2/redeliver", keyB, nil); res.status != http.StatusNotFound {
		t.Errorf("other tenant's redeliver = %d, want 404", res.status)
	}
	if d, _ := e.st.GetDelivery(ctx, "dlv_a2"); d.State != store.DeliveryFailed {
		t.Errorf("a refused redeliver changed the delivery: %s", d.State)
	}
	if res := e.do("POST", "/v1/webhook-deliveries/dlv_nope/redeliver", key, nil); res.status != http.StatusNotFound {
		t.Errorf("redeliver of an unknown id = %d, want 404", res.status)
	}
	res := e.do("POST", "/v1/webhook-deliveries/dlv_a2/redeliver", key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("redeliver = %d %s", res.status, res.body)
	}
	d, err := e.st.GetDelivery(ctx, "dlv_a2")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != store.DeliveryPending || d.Attempts != 0 || d.NextAttemptAt.After(time.Now()) {
		t.Errorf("after redeliver: %+v, want pending, 0 attempts, due now", d)
	}
}
