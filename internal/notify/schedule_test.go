package notify_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/testenv"
)

// TestRetryOutlivesOutage: with the default schedule (RetryFor 72 h, 30 s
// doubling up to 6 h, 30 % jitter), a delivery to a receiver that is down
// for two days is still pending, retried at growing intervals never longer
// than 6 h, and delivered once the receiver is back; to a receiver that
// never comes back it is retried until the end of the three days, the last
// try made at the end of the window, and then failed.
func TestRetryOutlivesOutage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		downFor time.Duration // the receiver answers 503 until then
	}{
		{"back after two days", 48 * time.Hour},
		{"never back", 1000 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := testenv.NewClock()
			rcv := newReceiver(t)
			var down atomic.Bool
			down.Store(true)
			rcv.intercept = func(*http.Request) int {
				if down.Load() {
					return http.StatusServiceUnavailable
				}
				return 0
			}
			st := openStore(t, storetest.NewSQLite(t))
			s := newSender(t, nil, notify.Options{Store: st, Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}},
				Now: clk.Now, Backoff: 30 * time.Second, MaxDelay: 6 * time.Hour, Jitter: 0.3})
			run(t, s)
			start := clk.Now()
			s.Notify(event("needs_reauth", "outage"))
			var id string
			waitFor(t, func() bool {
				ds, err := st.ListDeliveries(t.Context(), store.DeliveryFilter{AllTenants: true})
				if err != nil || len(ds) != 1 || ds[0].Attempts == 0 || ds[0].LeaseOwner != "" {
					return false
				}
				id = ds[0].ID
				return true
			})
			attempts, longest := 1, time.Duration(0)
			for {
				d := mustDelivery(t, st, id)
				if d.State != store.DeliveryPending {
					break
				}
				wait := d.NextAttemptAt.Sub(clk.Now())
				if wait <= 0 || wait > 6*time.Hour {
					t.Fatalf("retry %d due in %v, want within (0, 6h]", attempts, wait)
				}
				longest = max(longest, wait)
				clk.Advance(wait)
				if clk.Now().Sub(start) >= tc.downFor {
					down.Store(false)
				}
				attempts++
				waitFor(t, func() bool {
					d := mustDelivery(t, st, id)
					return d.LeaseOwner == "" && (d.Attempts == attempts || d.State != store.DeliveryPending)
				})
				if attempts > 100 {
					t.Fatal("more than 100 attempts")
				}
			}
			d := mustDelivery(t, st, id)
			elapsed := clk.Now().Sub(start)
			t.Logf("%s: %d attempts over %v, longest wait %v, state %s", tc.name, attempts, elapsed, longest, d.State)
			if tc.downFor < 72*time.Hour {
				if d.State != store.DeliveryDelivered || elapsed < tc.downFor || elapsed > tc.downFor+6*time.Hour {
					t.Errorf("state %s after %v, want delivered within 6 h of the receiver's return at %v", d.State, elapsed, tc.downFor)
				}
				return
			}
			if d.State != store.DeliveryFailed || elapsed < 72*time.Hour-time.Second || elapsed > 72*time.Hour+time.Second {
				t.Errorf("state %s after %v, want failed at the end of the 72 h window", d.State, elapsed)
			}
			if attempts < 12 || attempts > 40 || longest < 3*time.Hour {
				t.Errorf("%d attempts, longest wait %v: want a dozen or more, backing off to hours", attempts, longest)
			}
		})
	}
}

// TestRedeliverFailed: a delivery its receiver refused (410) is failed;
// once redelivered (as POST /v1/webhook-deliveries/{id}/redeliver does) it
// is posted again, with the same Grantd-Delivery id and body, and
// delivered; its tenant is recorded for the API's tenant scope.
func TestRedeliverFailed(t *testing.T) {
	clk := testenv.NewClock()
	rcv := newReceiver(t, http.StatusGone)
	st := openStore(t, storetest.NewSQLite(t))
	s := newSender(t, nil, notify.Options{Store: st, Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}, Now: clk.Now})
	run(t, s)
	s.Notify(event("connected", ""))
	first := rcv.wait(t)
	id := first.header.Get("Grantd-Delivery")
	waitFor(t, func() bool { return mustDelivery(t, st, id).State == store.DeliveryFailed })
	if d := mustDelivery(t, st, id); d.TenantID != "ten_acme" {
		t.Errorf("delivery tenant = %q, want ten_acme", d.TenantID)
	}
	if _, err := st.RedeliverDelivery(t.Context(), id, clk.Now()); err != nil {
		t.Fatal(err)
	}
	again := rcv.wait(t)
	if got := again.header.Get("Grantd-Delivery"); got != id || string(again.body) != string(first.body) {
		t.Errorf("redelivery %q %s, want %q with the same body", got, again.body, id)
	}
	waitFor(t, func() bool { return mustDelivery(t, st, id).State == store.DeliveryDelivered })
}
