package notify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/testenv"
)

// TestCrashBetweenEventAndOutbox (SEC-35: the needs_reauth webhook is not
// lost): the broker stores an event and then writes its deliveries; a
// process that dies between the two leaves the event without webhooks.
// The next Run (here: a restart) writes the missing delivery, which is
// delivered once, with the ids derived from the event; Notify arriving
// late for the same event adds nothing. An event older than the endpoint
// (a webhook added to the config later) is not sent.
func TestCrashBetweenEventAndOutbox(t *testing.T) {
	clk := testenv.NewClock()
	rcv := newReceiver(t)
	st := openStore(t, storetest.NewSQLite(t))
	opts := notify.Options{Store: st, Now: clk.Now, Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}}
	ctx := t.Context()

	before := store.Event{TenantID: "ten_acme", ConnectionID: "con_1", Kind: "needs_reauth", CreatedAt: clk.Now().Add(-time.Hour)}
	if _, err := st.AddEvent(ctx, before); err != nil {
		t.Fatal(err)
	}
	// The first process sees the endpoint for the first time, then dies
	// right after storing an event (Notify never runs).
	stop := run(t, newSender(t, nil, opts))
	stop()
	clk.Advance(time.Second)
	lost := store.Event{TenantID: "ten_acme", ConnectionID: "con_1", Kind: "needs_reauth",
		Detail: "the provider refused the refresh token (invalid_grant)", CreatedAt: clk.Now()}
	id, err := st.AddEvent(ctx, lost)
	if err != nil {
		t.Fatal(err)
	}
	lost.ID = id

	reg := prometheus.NewRegistry()
	s := newSender(t, reg, opts)
	stop = run(t, s)
	got := rcv.wait(t)
	var p notify.Payload
	if err := json.Unmarshal(got.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "needs_reauth" || p.Detail != lost.Detail || p.ID == "" {
		t.Errorf("recovered payload = %+v, want the lost needs_reauth event", p)
	}
	if v := metric(t, reg, "grantd_webhook_deliveries_recovered_total", nil); v != 1 {
		t.Errorf("recovered metric = %v, want 1", v)
	}
	// The broker's Notify arrives late (or another replica reconciles too).
	s.Notify(lost)
	stop()
	if n := rcv.count(); n != 1 {
		t.Errorf("receiver got %d requests, want 1 (the event before the endpoint existed is not sent, and the late Notify adds nothing)", n)
	}
	if ids := outboxIDs(t, st); len(ids) != 1 || ids[0] != got.header.Get("Grantd-Delivery") {
		t.Errorf("outbox ids %v, want only the delivered %s", ids, got.header.Get("Grantd-Delivery"))
	}
}
