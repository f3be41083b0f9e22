package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/vault"
)

// TestInvalidGrantOneWebhook is SEC-35 through the real broker and sandbox:
// an invalid_grant refresh, hit by many callers on two replicas at once,
// marks the connection needs_reauth and leads to exactly one needs_reauth
// webhook, although both replicas' senders drain one shared outbox. No delivery carries a token or the client secret (canary).
func TestInvalidGrantOneWebhook(t *testing.T) {
	rcv := newReceiver(t)
	reg := prometheus.NewRegistry()
	// Each replica's sender writes to and drains the outbox in the
	// replicas' shared database, through its own handle.
	senders := make([]*notify.Sender, 2)
	env := testenv.New(t, testenv.Options{OnEvent: func(e store.Event) { senders[0].Notify(e) }})
	replica := env.Replica(t, "replica-b", func(e store.Event) { senders[1].Notify(e) })
	senders[0] = newSender(t, reg, notify.Options{Store: env.Store, Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}})
	senders[1] = newSender(t, nil, notify.Options{Store: openStore(t, env.DSN), Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}})
	ctx, stop := context.WithCancel(context.WithoutCancel(t.Context()))
	var running sync.WaitGroup
	for _, s := range senders {
		running.Go(func() { s.Run(ctx) })
	}
	stopped := false
	stopAll := func() {
		if !stopped {
			stop()
			running.Wait()
			stopped = true
		}
	}
	t.Cleanup(stopAll)

	tenantID, _ := env.Tenant(t, "Acme MSP")
	conn := env.Connect(t, tenantID, testenv.Partner)
	tok, err := env.Broker.Token(t.Context(), conn.ID)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	stored, err := env.Store.GetConnection(t.Context(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := env.Vault.Open(stored.RefreshToken, vault.AAD("connection", conn.ID, "refresh_token"))
	if err != nil {
		t.Fatal(err)
	}

	if err := env.Sandbox.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: "invalid_grant", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	var callers sync.WaitGroup
	for i := range 10 {
		b := env.Broker
		if i%2 == 1 {
			b = replica
		}
		callers.Go(func() {
			if _, err := b.Refresh(t.Context(), conn.ID, ""); broker.CodeOf(err) != broker.CodeNeedsReauth {
				t.Errorf("Refresh = %v, want needs_reauth", err)
			}
		})
	}
	callers.Wait()
	stopAll() // drains: every event is delivered before we count

	types := map[string]int{}
	for _, r := range rcv.requests() {
		if err := verify(r.header.Get("Grantd-Signature"), secret, r.body, time.Now()); err != nil {
			t.Errorf("signature: %v", err)
		}
		var p notify.Payload
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
		types[p.Type]++
		if p.Type == "needs_reauth" && (p.ConnectionID != conn.ID || p.TenantID != tenantID || !strings.Contains(p.Detail, "invalid_grant")) {
			t.Errorf("needs_reauth payload = %+v", p)
		}
		for name, canary := range map[string]string{"access token": tok.AccessToken, "refresh token": string(rt), "client secret": "client-secret-canary"} {
			if strings.Contains(string(r.body), canary) || strings.Contains(strings.Join(r.header.Values("Grantd-Signature"), ""), canary) {
				t.Errorf("a %s delivery carries the %s", p.Type, name)
			}
		}
	}
	if types["needs_reauth"] != 1 || types["connected"] != 1 {
		t.Errorf("webhooks by type = %v, want exactly one connected and one needs_reauth", types)
	}
}
