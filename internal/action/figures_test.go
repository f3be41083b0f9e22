package action_test

import (
	"flag"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/pax8"
)

var idemOrders = flag.Int("idem.orders", 100, "create_order calls in TestIdempotencyFigures (BENCHMARKS.md uses 1000)")

// TestIdempotencyFigures places -idem.orders orders, each retried by the
// client until it gets a 200, with a lost-answer fault (the order is placed,
// its answer lost) on every tenth call: once with an Idempotency-Key per
// order, once without. With keys the sandbox holds exactly one order per
// call; without, every lost answer became a duplicate, which it counts.
// The figures in BENCHMARKS.md come from
//
//	go test ./internal/action/ -run TestIdempotencyFigures -v -idem.orders=1000
func TestIdempotencyFigures(t *testing.T) {
	e := newEnv(t, action.Options{})
	n := *idemOrders
	var companies page[pax8.Company]
	e.mustRun("pax8.list_companies", map[string]any{"size": 2, "status": "Active"}, &companies)
	f := e.orderFixture()
	if len(companies.Content) < 2 {
		t.Fatal("need two active companies")
	}
	run := func(company string, keyed bool) (placed, retries int, took time.Duration) {
		fx := orderFixture{company: company, product: f.product}
		before := e.orders(company)
		start := time.Now()
		for i := range n {
			if i%10 == 9 {
				e.fault(sandbox.Fault{Kind: "drop_after", Endpoint: "api"})
			}
			key := ""
			if keyed {
				key = fmt.Sprintf("figures-%s-%d", company, i)
			}
			for try := 0; ; try++ {
				r := e.callKey(e.conn.ID, "pax8.create_order", key, fx.body(1+i%5))
				if r.status == http.StatusOK {
					break
				}
				if try == 4 {
					t.Fatalf("order %d: %d %s after 5 tries", i, r.status, r.raw)
				}
				retries++
			}
		}
		took = time.Since(start)
		return e.orders(company) - before, retries, took
	}
	keyedPlaced, keyedRetries, keyedTook := run(companies.Content[0].ID, true)
	plainPlaced, plainRetries, plainTook := run(companies.Content[1].ID, false)
	t.Logf("%d create_order calls, lost answer on %d:", n, n/10)
	t.Logf("  with Idempotency-Key:    %d orders at the sandbox (%d duplicates), %d client retries, %v (%v a call)",
		keyedPlaced, keyedPlaced-n, keyedRetries, keyedTook.Round(time.Millisecond), (keyedTook / time.Duration(n)).Round(time.Microsecond))
	t.Logf("  without Idempotency-Key: %d orders at the sandbox (%d duplicates), %d client retries, %v (%v a call)",
		plainPlaced, plainPlaced-n, plainRetries, plainTook.Round(time.Millisecond), (plainTook / time.Duration(n)).Round(time.Microsecond))
	if keyedPlaced != n {
		t.Errorf("with keys: %d orders placed, want exactly %d", keyedPlaced, n)
	}
	if plainPlaced != n+n/10 {
		t.Errorf("without keys: %d orders placed, want %d (one duplicate per lost answer)", plainPlaced, n+n/10)
	}
}
