package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

// TestServeSendsWebhooks: a webhook in the config receives the broker's
// events while Serve runs, signed with its secret, and the deliveries are
// counted on /metrics.
func TestServeSendsWebhooks(t *testing.T) {
	type hit struct {
		sig  string
		body []byte
	}
	hits := make(chan hit, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- hit{r.Header.Get("Grantd-Signature"), b}
	}))
	defer rcv.Close()

	te := newTestEnv(t)
	cfg := te.config(t, "client-1", "secret-1")
	const hookSecret = "hook-secret-0123456789"
	cfg.Webhooks = []config.Webhook{{URL: rcv.URL + "/hooks", Secret: hookSecret, Events: []string{"deleted"}}}
	a, err := Build(t.Context(), cfg, nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	tn, _, err := tenant.Create(t.Context(), a.Store(), "Acme MSP", time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	c := store.Connection{ID: "conn_1", TenantID: tn.ID, IntegrationID: "pax8-main", Provider: "pax8",
		Status: store.StatusActive, CreatedAt: time.Now().UTC()}
	if err := a.Store().CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Broker().Disconnect(t.Context(), tn.ID, c.ID); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	var got hit
	select {
	case got = <-hits:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook within 10 s")
	}
	var p notify.Payload
	if err := json.Unmarshal(got.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "deleted" || p.ConnectionID != c.ID || p.TenantID != tn.ID {
		t.Errorf("payload = %+v, want deleted for %s of %s", p, c.ID, tn.ID)
	}
	ts, _, _ := strings.Cut(strings.TrimPrefix(got.sig, "t="), ",")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("Grantd-Signature %q has no timestamp", got.sig)
	}
	if want := notify.Signature(hookSecret, time.Unix(sec, 0), got.body); got.sig != want {
		t.Errorf("Grantd-Signature = %q, want %q", got.sig, want)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `grantd_webhook_deliveries_total{event="deleted",outcome="delivered"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks the delivery:\n%s", grep(string(b), "grantd_webhook"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func grep(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
