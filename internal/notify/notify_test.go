package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
)

const secret = "whsec-test-secret-0123456789"

// received is one request as the receiver saw it.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a real webhook endpoint on loopback that answers with the
// statuses in script, then 204, and records every request (but those its
// intercept answers).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	script []int
	header http.Header // extra response headers for scripted answers
	got    []received
	ch     chan received
	// intercept, when set, sees each request first; a status it returns
	// is the answer, and the request is not recorded.
	intercept func(*http.Request) int
}

func newReceiver(t *testing.T, script ...int) *receiver {
	t.Helper()
	r := &receiver{script: script, header: http.Header{}, ch: make(chan received, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		intercept := r.intercept
		r.mu.Unlock()
		if intercept != nil {
			if status := intercept(req); status > 0 {
				w.WriteHeader(status)
				return
			}
		}
		body, _ := io.ReadAll(req.Body)
		rec := received{header: req.Header.Clone(), body: body, at: time.Now()}
		r.mu.Lock()
		r.got = append(r.got, rec)
		status := http.StatusNoContent
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
			maps.Copy(w.Header(), r.header)
		}
		r.mu.Unlock()
		r.ch <- rec
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the next request, failing the test after 10 s.
func (r *receiver) wait(t *testing.T) received {
	t.Helper()
	select {
	case rec := <-r.ch:
		return rec
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook request within 10 s")
		return received{}
	}
}

// requests returns a copy of the requests received.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// count returns the number of requests received.
func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// start runs s until the test ends.
func start(t *testing.T, s *notify.Sender) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; s.Close() })
}

// openStore opens the SQLite file or PostgreSQL URL dsn, closed when the
// test ends.
func openStore(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), dsn, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newSender returns a Sender for opts, with fast test defaults and, when
// opts.Store is nil, a store of its own in a new SQLite file.
func newSender(t *testing.T, reg prometheus.Registerer, opts notify.Options) *notify.Sender {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Registerer = reg
	if opts.Backoff == 0 {
		opts.Backoff = 10 * time.Millisecond
	}
	if opts.Jitter == 0 {
		opts.Jitter = -1 // exact delays, unless a test asks for jitter
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 10 * time.Millisecond
	}
	if opts.Store == nil {
		opts.Store = openStore(t, storetest.NewSQLite(t))
	}
	s, err := notify.New(opts)
	if err != nil {
		t.Fatalf("notify.New: %v", err)
	}
	return s
}

// metric returns the value of the counter or gauge name with labels.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	return 0
}

// eventIDs numbers the events of event, as the database would.
var eventIDs atomic.Int64

func event(kind, detail string) store.Event {
	return store.Event{ID: eventIDs.Add(1), TenantID: "ten_acme", ConnectionID: "con_1", IntegrationID: "int_pax8", Provider: "pax8", Kind: kind, Detail: detail,
		CreatedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.FixedZone("CET", 3600))}
}

// verify checks a Grantd-Signature header the way the README tells
// receivers to: HMAC-SHA256 over "<t>.<body>", within five minutes.
func verify(header, secret string, body []byte, now time.Time) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %v away", ts, d)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := mac.Sum(nil)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("v1 %q does not match", sig)
	}
	return nil
}

func TestDeliverySignedJSON(t *testing.T) {
	rcv := newReceiver(t)
	reg := prometheus.NewRegistry()
	s := newSender(t, reg, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.URL + "/hooks", Secret: secret}}})
	start(t, s)
	s.Notify(event("needs_reauth", "the provider refused the refresh token (invalid_grant)"))
	got := rcv.wait(t)

	if err := verify(got.header.Get("Grantd-Signature"), secret, got.body, time.Now()); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if err := verify(got.header.Get("Grantd-Signature"), "another-secret-0123456789", got.body, time.Now()); err == nil {
		t.Error("signature verifies with the wrong secret")
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Grantd-Event": "needs_reauth"} {
		if v := got.header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if !strings.HasPrefix(got.header.Get("Grantd-Delivery"), "dlv_") {
		t.Errorf("Grantd-Delivery = %q, want dlv_…", got.header.Get("Grantd-Delivery"))
	}
	var fields map[string]any
	if err := json.Unmarshal(got.body, &fields); err != nil {
		t.Fatalf("body %s: %v", got.body, err)
	}
	if id, _ := fields["id"].(string); !strings.HasPrefix(id, "evt_") {
		t.Errorf("id = %v, want evt_…", fields["id"])
	}
	delete(fields, "id")
	want := map[string]any{
		"type": "needs_reauth", "created_at": "2026-11-22T07:00:00Z", "tenant_id": "ten_acme",
		"connection_id": "con_1", "detail": "the provider refused the refresh token (invalid_grant)",
		"integration_id": "int_pax8", "provider": "pax8",
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	waitFor(t, func() bool {
		return metric(t, reg, "grantd_webhook_deliveries_total", map[string]string{"event": "needs_reauth", "outcome": "delivered"}) == 1
	})
}

// TestRetriesThenDelivers: 500 twice, then 204; the retries carry the same
// delivery id and a fresh signature.
func TestRetriesThenDelivers(t *testing.T) {
	rcv := newReceiver(t, 500, 500)
	reg := prometheus.NewRegistry()
	s := newSender(t, reg, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}})
	start(t, s)
	s.Notify(event("connected", "scopes: openid"))
	var ids []string
	for range 3 {
		got := rcv.wait(t)
		ids = append(ids, got.header.Get("Grantd-Delivery"))
		if err := verify(got.header.Get("Grantd-Signature"), secret, got.body, time.Now()); err != nil {
			t.Errorf("signature: %v", err)
		}
	}
	if ids[0] == "" || ids[1] != ids[0] || ids[2] != ids[0] {
		t.Errorf("delivery ids = %q, want one id on every attempt", ids)
	}
	waitFor(t, func() bool {
		return metric(t, reg, "grantd_webhook_deliveries_total", map[string]string{"event": "connected", "outcome": "delivered"}) == 1
	})
	if got := metric(t, reg, "grantd_webhook_attempts_total", map[string]string{"event": "connected", "result": "5xx"}); got != 2 {
		t.Errorf("5xx attempts = %v, want 2", got)
	}
	if got := rcv.count(); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
}

// TestRetryAfter: a 429 with Retry-After: 1 delays the retry by at least a
// second, although the backoff is 10 ms.
func TestRetryAfter(t *testing.T) {
	rcv := newReceiver(t, http.StatusTooManyRequests)
	rcv.header.Set("Retry-After", "1")
	s := newSender(t, nil, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}})
	start(t, s)
	s.Notify(event("deleted", ""))
	first, second := rcv.wait(t), rcv.wait(t)
	if gap := second.at.Sub(first.at); gap < time.Second {
		t.Errorf("retry came %v after the 429, want at least Retry-After 1s", gap)
	}
}

// TestGivesUp: an endpoint that always fails gets MaxAttempts requests,
// then no more.
func TestGivesUp(t *testing.T) {
	rcv := newReceiver(t, 500, 502, 503, 500, 500, 500)
	reg := prometheus.NewRegistry()
	s := newSender(t, reg, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}, MaxAttempts: 3})
	start(t, s)
	s.Notify(event("needs_reauth", ""))
	waitFor(t, func() bool {
		return metric(t, reg, "grantd_webhook_deliveries_total", map[string]string{"event": "needs_reauth", "outcome": "failed"}) == 1
	})
	time.Sleep(200 * time.Millisecond) // 20 backoffs: time for a stray retry
	if got := rcv.count(); got != 3 {
		t.Errorf("requests = %d, want MaxAttempts 3", got)
	}
	if got := s.Len(); got != 0 {
		t.Errorf("queue length = %d, want 0", got)
	}
}

// TestNoRedirects: a 3xx is not followed and not retried; neither is a
// 400.
func TestNoRedirects(t *testing.T) {
	target := newReceiver(t)
	for _, tc := range []struct {
		name   string
		status int
	}{
		{"302", http.StatusFound},
		{"307", http.StatusTemporaryRedirect},
		{"400", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.status)
			rcv.header.Set("Location", target.URL+"/stolen")
			reg := prometheus.NewRegistry()
			s := newSender(t, reg, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}})
			start(t, s)
			s.Notify(event("connected", ""))
			waitFor(t, func() bool {
				return metric(t, reg, "grantd_webhook_deliveries_total", map[string]string{"event": "connected", "outcome": "failed"}) == 1
			})
			time.Sleep(100 * time.Millisecond)
			if got := rcv.count(); got != 1 {
				t.Errorf("requests = %d, want 1 (no retry)", got)
			}
			if got := target.count(); got != 0 {
				t.Errorf("redirect target got %d requests, want 0", got)
			}
		})
	}
}

// TestEventFilter: an endpoint gets only the types it subscribed to; one
// without a list gets all.
func TestEventFilter(t *testing.T) {
	some, all := newReceiver(t), newReceiver(t)
	s := newSender(t, nil, notify.Options{Endpoints: []notify.Endpoint{
		{URL: some.URL, Secret: secret, Events: []string{"needs_reauth", "reauth_due"}},
		{URL: all.URL, Secret: "second-secret-0123456789"},
	}})
	start(t, s)
	for _, k := range []string{"refreshed", "reauth_due", "connected"} {
		s.Notify(event(k, ""))
	}
	got := some.wait(t)
	if k := got.header.Get("Grantd-Event"); k != "reauth_due" {
		t.Errorf("filtered endpoint got %q, want reauth_due", k)
	}
	for range 3 {
		r := all.wait(t)
		if err := verify(r.header.Get("Grantd-Signature"), "second-secret-0123456789", r.body, time.Now()); err != nil {
			t.Errorf("second endpoint signature: %v", err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := some.count(); n != 1 {
		t.Errorf("filtered endpoint got %d requests, want 1", n)
	}
}

// TestDrainOnStop: deliveries still queued when Run stops get one last
// attempt.
func TestDrainOnStop(t *testing.T) {
	rcv := newReceiver(t)
	s := newSender(t, nil, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}})
	s.Notify(event("deleted", "drained"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Errorf("Run = %v", err)
	}
	if n := rcv.count(); n != 1 {
		t.Errorf("requests after Run = %d, want 1", n)
	}
	s.Close()
	s.Notify(event("deleted", "after close"))
	if n := s.Len(); n != 0 {
		t.Errorf("queue after Close = %d, want 0", n)
	}
}

// TestEndpointRedacted: an endpoint logs and prints without its secret or
// query.
func TestEndpointRedacted(t *testing.T) {
	e := notify.Endpoint{URL: "https://app.example.com/hooks?token=q-canary", Secret: "s-canary"}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "endpoint", e)
	for _, out := range []string{fmt.Sprint(e), fmt.Sprintf("%+v", e), b.String()} {
		if strings.Contains(out, "canary") {
			t.Errorf("endpoint printed as %q, which leaks", out)
		}
	}
}

func TestNewRejectsIncompleteOptions(t *testing.T) {
	st := openStore(t, storetest.NewSQLite(t))
	for _, e := range []notify.Endpoint{{URL: "https://x.example"}, {Secret: secret}} {
		if _, err := notify.New(notify.Options{Store: st, Endpoints: []notify.Endpoint{e}}); err == nil {
			t.Errorf("New(%v) = nil error, want one", e)
		}
	}
	if _, err := notify.New(notify.Options{Endpoints: []notify.Endpoint{{URL: "https://x.example", Secret: secret}}}); err == nil {
		t.Error("New without a store = nil error, want one")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPayloadEndUserAndTags: a connection's end user and tags ride along
// in its webhooks, and are left out when the application named none.
func TestPayloadEndUserAndTags(t *testing.T) {
	rcv := newReceiver(t)
	s := newSender(t, prometheus.NewRegistry(), notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.URL + "/hooks", Secret: secret}}})
	start(t, s)
	e := event("connected", "scopes: a")
	e.EndUser = store.EndUser{ID: "u-42", Email: "ops@customer.example"}
	e.Tags = []string{"plan:gold", "eu"}
	s.Notify(e)
	var got notify.Payload
	if err := json.Unmarshal(rcv.wait(t).body, &got); err != nil {
		t.Fatal(err)
	}
	if got.EndUser == nil || *got.EndUser != (notify.EndUser{ID: "u-42", Email: "ops@customer.example"}) ||
		!slices.Equal(got.Tags, []string{"plan:gold", "eu"}) {
		t.Errorf("payload end user %+v, tags %v", got.EndUser, got.Tags)
	}
	s.Notify(event("refreshed", ""))
	body := rcv.wait(t).body
	if strings.Contains(string(body), "end_user") || strings.Contains(string(body), "tags") {
		t.Errorf("payload without labels mentions them: %s", body)
	}
}
