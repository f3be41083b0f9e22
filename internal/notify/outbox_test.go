package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/testenv"
)

// run starts s until the returned stop is called (or the test ends);
// stop waits for Run to return, then closes s.
func run(t *testing.T, s *notify.Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done; s.Close() }) }
	t.Cleanup(stop)
	return stop
}

// outboxIDs returns the delivery ids in the outbox, read with SQL as an
// operator would.
func outboxIDs(t *testing.T, db *sqlstore.DB) []string {
	t.Helper()
	rows, err := db.SQL().QueryContext(t.Context(), `SELECT id FROM webhook_deliveries ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func mustDelivery(t *testing.T, st store.Store, id string) store.Delivery {
	t.Helper()
	d, err := st.GetDelivery(t.Context(), id)
	if err != nil {
		t.Fatalf("GetDelivery(%s) = %v", id, err)
	}
	return d
}

// TestDeliverySurvivesRestart (SEC-35: the needs_reauth webhook reaches
// the application even across a restart): one event is written to the
// outbox before Run starts, another while Run runs; the receiver is down
// (503), so each is attempted once and waits for its retry. Then the
// sender and its store are closed, leaving the outbox as a crashed process
// would (pending, unclaimed). A new process on the same SQLite file
// delivers each exactly once, with the Grantd-Delivery id written before
// the restart and a valid signature. The database files hold neither the
// endpoint's secret nor its URL's query (SEC-60).
func TestDeliverySurvivesRestart(t *testing.T) {
	path := storetest.NewSQLite(t)
	clk := testenv.NewClock()
	rcv := newReceiver(t)
	down := func(*http.Request) int { return http.StatusServiceUnavailable }
	rcv.mu.Lock()
	rcv.intercept = down
	rcv.mu.Unlock()
	hookSecret := "whsec-canary-0123456789"
	endpoints := []notify.Endpoint{{URL: rcv.URL + "/hooks?token=q-canary-in-the-url", Secret: hookSecret}}
	// settled reports whether the delivery is back in the outbox, unclaimed,
	// after its first attempt.
	settled := func(st store.Store, id string) bool {
		d := mustDelivery(t, st, id)
		return d.Attempts == 1 && d.LeaseOwner == ""
	}

	// First process.
	st1, err := sqlstore.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s1 := newSender(t, nil, notify.Options{Store: st1, Endpoints: endpoints, Now: clk.Now, Backoff: time.Minute})
	s1.Notify(event("needs_reauth", "before any Run"))
	stop1 := run(t, s1)
	waitFor(t, func() bool { return s1.Len() == 1 && len(outboxIDs(t, st1)) == 1 })
	// The first delivery cannot go out: the receiver is down.
	waitFor(t, func() bool { return settled(st1, outboxIDs(t, st1)[0]) })
	s1.Notify(event("needs_reauth", "while the receiver is down"))
	ids := outboxIDs(t, st1)
	if len(ids) != 2 {
		t.Fatalf("outbox = %v, want two deliveries", ids)
	}
	waitFor(t, func() bool { return settled(st1, ids[0]) && settled(st1, ids[1]) })
	for _, id := range ids {
		if d := mustDelivery(t, st1, id); d.State != store.DeliveryPending || d.LastError != "answered 503" ||
			!d.NextAttemptAt.Equal(clk.Now().Add(time.Minute)) || d.LeaseOwner != "" {
			t.Errorf("before the restart, %s = %+v, want pending, due in a minute, unclaimed", id, d)
		}
	}
	stop1()
	if err := st1.Close(); err != nil {
		t.Fatal(err)
	}

	// Second process, a minute later, with the receiver back.
	rcv.mu.Lock()
	rcv.intercept = nil
	rcv.mu.Unlock()
	clk.Advance(time.Minute)
	st2 := openStore(t, path)
	s2 := newSender(t, nil, notify.Options{Store: st2, Endpoints: endpoints, Now: clk.Now})
	run(t, s2)
	got := map[string]int{}
	for range 2 {
		r := rcv.wait(t)
		got[r.header.Get("Grantd-Delivery")]++
		if err := verify(r.header.Get("Grantd-Signature"), hookSecret, r.body, clk.Now()); err != nil {
			t.Errorf("signature after the restart: %v", err)
		}
	}
	waitFor(t, func() bool { return s2.Len() == 0 })
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("delivery %s received %d times after the restart, want 1 (got %v)", id, got[id], got)
		}
		if d := mustDelivery(t, st2, id); d.State != store.DeliveryDelivered || d.Attempts != 2 {
			t.Errorf("after the restart, %s = %s after %d attempts, want delivered after 2", id, d.State, d.Attempts)
		}
	}
	if n := rcv.count(); n != 2 {
		t.Errorf("receiver got %d requests, want 2", n)
	}

	// SEC-60: nothing secret in the database files.
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, canary := range []string{hookSecret, "q-canary-in-the-url"} {
			if bytes.Contains(b, []byte(canary)) {
				t.Errorf("%s holds %q", filepath.Base(f), canary)
			}
		}
	}
}

// TestTwoReplicasDeliverOnce: two senders, as two replicas would run
// them, each on its own handle to one database, each fed half of 200
// events, drain the shared outbox together; every delivery reaches the
// receiver exactly once. On SQLite (one file) and PostgreSQL.
func TestTwoReplicasDeliverOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"SQLite", func(t *testing.T) string { return storetest.NewSQLite(t) }},
		{"Postgres", func(t *testing.T) string { return storetest.NewPostgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := tc.dsn(t)
			rcv := newReceiver(t)
			regs := []*prometheus.Registry{prometheus.NewRegistry(), prometheus.NewRegistry()}
			var (
				senders []*notify.Sender
				stops   []func()
			)
			for i, reg := range regs {
				s := newSender(t, reg, notify.Options{Store: openStore(t, dsn), Owner: fmt.Sprintf("replica-%d", i),
					Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}})
				senders = append(senders, s)
				stops = append(stops, run(t, s))
			}
			const events = 200
			var wg sync.WaitGroup
			for i, s := range senders {
				wg.Go(func() {
					for j := range events / 2 {
						s.Notify(event("refreshed", fmt.Sprintf("replica %d event %d", i, j)))
					}
				})
			}
			wg.Wait()
			waitFor(t, func() bool {
				n := 0
				for _, reg := range regs {
					n += int(metric(t, reg, "grantd_webhook_deliveries_total", map[string]string{"event": "refreshed", "outcome": "delivered"}))
				}
				return n >= events
			})
			for _, stop := range stops {
				stop() // nothing in flight is left to arrive late
			}
			byID := map[string]int{}
			for _, r := range rcv.requests() {
				byID[r.header.Get("Grantd-Delivery")]++
				if err := verify(r.header.Get("Grantd-Signature"), secret, r.body, time.Now()); err != nil {
					t.Errorf("signature: %v", err)
				}
			}
			if len(byID) != events {
				t.Errorf("receiver saw %d delivery ids, want %d", len(byID), events)
			}
			for id, n := range byID {
				if n != 1 {
					t.Errorf("delivery %s received %d times, want once", id, n)
				}
			}
			st := openStore(t, dsn)
			if n, err := st.CountDeliveries(t.Context(), store.DeliveryDelivered); err != nil || n != events {
				t.Errorf("delivered in the outbox = %d, %v; want %d", n, err, events)
			}
			for i, reg := range regs {
				t.Logf("replica %d delivered %v", i, metric(t, reg, "grantd_webhook_deliveries_total",
					map[string]string{"event": "refreshed", "outcome": "delivered"}))
			}
		})
	}
}

// TestDeadReplicaClaimRedelivered: a replica claims a delivery and never
// completes it (its POST hangs and the replica stops looking); once the
// claim's lease lapses, the other replica delivers it: at least once, with
// the same Grantd-Delivery id.
func TestDeadReplicaClaimRedelivered(t *testing.T) {
	dsn := storetest.NewSQLite(t)
	clk := testenv.NewClock()
	rcv := newReceiver(t)
	hung, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	rcv.mu.Lock()
	rcv.intercept = func(*http.Request) int {
		if calls.Add(1) == 1 {
			close(hung)
			<-release // the dead replica's request never gets an answer
		}
		return 0
	}
	rcv.mu.Unlock()
	eps := []notify.Endpoint{{URL: rcv.URL, Secret: secret}}
	const lease = time.Minute

	dead := newSender(t, nil, notify.Options{Store: openStore(t, dsn), Owner: "dead", Endpoints: eps, Now: clk.Now, LeaseTTL: lease})
	dctx, die := context.WithCancel(context.WithoutCancel(t.Context()))
	deadDone := make(chan struct{})
	go func() { dead.Run(dctx); close(deadDone) }()
	// Cleanups run last first: release the hung request, wait for the dead
	// replica's Run, then close its store and the receiver.
	t.Cleanup(func() { <-deadDone })
	t.Cleanup(func() { close(release) })
	dead.Notify(event("needs_reauth", "claimed by a replica that dies"))
	<-hung
	die() // it claims no more; its attempt never completes

	st := openStore(t, dsn)
	ids := outboxIDs(t, st)
	if len(ids) != 1 {
		t.Fatalf("outbox = %v, want one delivery", ids)
	}
	if d := mustDelivery(t, st, ids[0]); d.LeaseOwner != "dead" || d.Attempts != 1 || !d.LeaseExpiresAt.Equal(clk.Now().Add(lease)) {
		t.Fatalf("claimed delivery = %+v, want dead's for a minute", d)
	}
	reg := prometheus.NewRegistry()
	live := newSender(t, reg, notify.Options{Store: st, Owner: "live", Endpoints: eps, Now: clk.Now, LeaseTTL: lease})
	run(t, live)
	clk.Advance(lease + time.Second)
	got := rcv.wait(t)
	if id := got.header.Get("Grantd-Delivery"); id != ids[0] {
		t.Errorf("redelivery carries %q, want %q", id, ids[0])
	}
	if err := verify(got.header.Get("Grantd-Signature"), secret, got.body, clk.Now()); err != nil {
		t.Errorf("redelivery signature: %v", err)
	}
	waitFor(t, func() bool {
		return metric(t, reg, "grantd_webhook_deliveries_total", map[string]string{"event": "needs_reauth", "outcome": "delivered"}) == 1
	})
	if d := mustDelivery(t, st, ids[0]); d.State != store.DeliveryDelivered || d.Attempts != 2 || d.LeaseOwner != "" {
		t.Errorf("after the takeover = %+v, want delivered after 2 attempts", d)
	}
}

// TestRetryBackoffInOutbox: a receiver answering 500 twice then 204 is
// retried after Backoff, then twice Backoff, each retry waiting in the
// outbox (due time, last error) until the clock reaches it; a 4xx fails at
// once and a redirect is not followed, both recorded as failed.
func TestRetryBackoffInOutbox(t *testing.T) {
	clk := testenv.NewClock()
	rcv := newReceiver(t, 500, 500)
	st := openStore(t, storetest.NewSQLite(t))
	s := newSender(t, nil, notify.Options{Store: st, Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}},
		Now: clk.Now, Backoff: time.Minute})
	run(t, s)
	s.Notify(event("connected", ""))
	first := rcv.wait(t)
	id := first.header.Get("Grantd-Delivery")
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute} {
		var d store.Delivery
		waitFor(t, func() bool { d = mustDelivery(t, st, id); return d.LeaseOwner == "" })
		if d.State != store.DeliveryPending || d.Attempts != i+1 || d.LastError != "answered 500" ||
			!d.NextAttemptAt.Equal(clk.Now().Add(wait)) {
			t.Errorf("after failure %d = %+v, want pending, due in %v", i+1, d, wait)
		}
		if n := rcv.count(); n != i+1 {
			t.Errorf("requests before the retry is due = %d, want %d", n, i+1)
		}
		clk.Advance(wait)
		if got := rcv.wait(t).header.Get("Grantd-Delivery"); got != id {
			t.Errorf("retry %d carries %q, want %q", i+1, got, id)
		}
	}
	waitFor(t, func() bool { return mustDelivery(t, st, id).State == store.DeliveryDelivered })
	if d := mustDelivery(t, st, id); d.Attempts != 3 || !d.FinishedAt.Equal(clk.Now()) {
		t.Errorf("delivered = %+v, want 3 attempts, finished now", d)
	}

	for _, status := range []int{http.StatusBadRequest, http.StatusFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			target := newReceiver(t)
			rcv := newReceiver(t, status)
			rcv.header.Set("Location", target.URL+"/stolen")
			s := newSender(t, nil, notify.Options{Store: st, Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}, Now: clk.Now})
			run(t, s)
			s.Notify(event("deleted", ""))
			id := rcv.wait(t).header.Get("Grantd-Delivery")
			waitFor(t, func() bool { return mustDelivery(t, st, id).State == store.DeliveryFailed })
			if d := mustDelivery(t, st, id); d.Attempts != 1 || d.LastError == "" {
				t.Errorf("failed delivery = %+v, want 1 attempt and an error", d)
			}
			if n := target.count(); n != 0 {
				t.Errorf("redirect target got %d requests", n)
			}
		})
	}
}

// TestOutboxPruned: Run deletes delivered and failed deliveries once they
// are older than Retention, at start and hourly after, and leaves newer
// ones.
func TestOutboxPruned(t *testing.T) {
	clk := testenv.NewClock()
	rcv := newReceiver(t)
	st := openStore(t, storetest.NewSQLite(t))
	// A delivery finished eight days ago, for an endpoint since removed.
	old := store.Delivery{ID: "dlv_old", Endpoint: "url-sha256:gone", EventID: "evt_old", EventType: "connected",
		Payload: []byte(`{}`), CreatedAt: clk.Now().Add(-8 * 24 * time.Hour)}
	if _, err := st.EnqueueDeliveries(t.Context(), []store.Delivery{old}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimDeliveries(t.Context(), "gone", []string{old.Endpoint}, old.CreatedAt, old.CreatedAt.Add(time.Minute), 1); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkDelivered(t.Context(), old.ID, old.CreatedAt); err != nil {
		t.Fatal(err)
	}
	s := newSender(t, nil, notify.Options{Store: st, Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}},
		Now: clk.Now, Retention: 7 * 24 * time.Hour})
	run(t, s)
	s.Notify(event("connected", ""))
	id := rcv.wait(t).header.Get("Grantd-Delivery")
	waitFor(t, func() bool { return mustDelivery(t, st, id).State == store.DeliveryDelivered })
	if _, err := st.GetDelivery(t.Context(), old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an 8-day-old delivery after Run started: %v, want pruned", err)
	}
	// Six days on, the new one is kept; eight days on, the hourly prune
	// deletes it.
	clk.Advance(6 * 24 * time.Hour)
	s.Notify(event("refreshed", "")) // after this one goes out, the 6-day prune has run
	rcv.wait(t)
	mustDelivery(t, st, id)
	clk.Advance(2 * 24 * time.Hour)
	waitFor(t, func() bool {
		_, err := st.GetDelivery(t.Context(), id)
		return errors.Is(err, store.ErrNotFound)
	})
}

// TestNotifyStoreDownDrops: when the outbox cannot be written, Notify
// returns at once, and the delivery is dropped, logged and counted.
func TestNotifyStoreDownDrops(t *testing.T) {
	rcv := newReceiver(t)
	st, err := sqlstore.Open(t.Context(), storetest.NewSQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s := newSender(t, reg, notify.Options{Store: st, Endpoints: []notify.Endpoint{{URL: rcv.URL, Secret: secret}}})
	st.Close() // the database is gone
	s.Notify(event("needs_reauth", ""))
	if got := metric(t, reg, "grantd_webhook_deliveries_total", map[string]string{"event": "needs_reauth", "outcome": "dropped"}); got != 1 {
		t.Errorf("dropped = %v, want 1", got)
	}
}
