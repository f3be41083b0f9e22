package action_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/pax8"
)

// callKey runs action name on conn with the Idempotency-Key header key
// ("" sends none).
func (e *env) callKey(conn, name, key, body string) reply {
	e.t.Helper()
	return e.callKeyAs(e.key, conn, name, key, body)
}

func (e *env) callKeyAs(apiKey, conn, name, key, body string) reply {
	e.t.Helper()
	return e.send(e.srv.URL, apiKey, conn, name, key, body)
}

// callAt is callKey on the API server at base.
func (e *env) callAt(base, conn, name, key, body string) reply {
	return e.send(base, e.key, conn, name, key, body)
}

// newReplica serves e's actions from a second API server with its own
// broker and runner on e's store: another replica.
func newReplica(t *testing.T, e *env, ao action.Options) string {
	t.Helper()
	b := e.Replica(t, "replica-2", nil)
	ao.Tokens, ao.Providers, ao.Store = b, e.Providers, e.Store
	r, err := action.New(ao)
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Options{Broker: b, Store: e.Store})
	action.Register(a, r)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (e *env) send(base, apiKey, conn, name, key, body string) reply {
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodPost, base+"/v1/connections/"+conn+"/actions/"+name, bytes.NewBufferString(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Error(err)
		return reply{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &r); err != nil {
		e.t.Errorf("%s: answer is not JSON: %v: %q", name, err, b)
	}
	return r
}

// orderFixture is an Active company and a product it can order without a
// commitment, from the seeded data.
type orderFixture struct {
	company, product string
}

func (e *env) orderFixture() orderFixture {
	e.t.Helper()
	var companies page[pax8.Company]
	e.mustRun("pax8.list_companies", map[string]any{"size": 5, "status": "Active"}, &companies)
	var products page[pax8.Product]
	e.mustRun("pax8.list_products", map[string]any{"size": 50}, &products)
	i := slices.IndexFunc(products.Content, func(p pax8.Product) bool { return !p.RequiresCommitment })
	if len(companies.Content) == 0 || i < 0 {
		e.t.Fatal("no active company or product without commitment")
	}
	return orderFixture{company: companies.Content[0].ID, product: products.Content[i].ID}
}

func (f orderFixture) body(qty int) string {
	return fmt.Sprintf(`{"order":{"companyId":%q,"orderedBy":"Pax8 Partner","lineItems":[{"productId":%q,"lineItemNumber":1,"quantity":%d,"billingTerm":"Monthly"}]}}`,
		f.company, f.product, qty)
}

// orders returns how many orders the company has at the sandbox.
func (e *env) orders(company string) int {
	e.t.Helper()
	var p page[pax8.Order]
	e.mustRun("pax8.list_orders", map[string]any{"company_id": company, "size": 1}, &p)
	return p.Page.TotalElements
}

func (e *env) fault(f sandbox.Fault) {
	e.t.Helper()
	if err := e.Sandbox.AddFault(f); err != nil {
		e.t.Fatal(err)
	}
}

// TestIdempotencyReplay: the same key and body returns the stored answer
// without calling Pax8; another body gets 422 idempotency_key_reused; the
// key may also come in the input.
func TestIdempotencyReplay(t *testing.T) {
	e := newEnv(t, action.Options{})
	f := e.orderFixture()
	before := e.orders(f.company)

	first := e.callKey(e.conn.ID, "pax8.create_order", "order-1", f.body(3))
	if first.status != http.StatusOK || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("create_order = %d %s", first.status, first.raw)
	}
	calls := e.APICalls()
	// Same request, other spelling: keys reordered, spaces.
	again := e.callKey(e.conn.ID, "pax8.create_order", "order-1", " "+f.body(3)+" ")
	if again.status != http.StatusOK || again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %d %s (replayed %q), want %s", again.status, again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
	}
	if got := e.APICalls(); got != calls {
		t.Errorf("replay made %d Pax8 calls, want none", got-calls)
	}
	other := e.callKey(e.conn.ID, "pax8.create_order", "order-1", f.body(4))
	if other.status != http.StatusUnprocessableEntity || other.Error.Code != "idempotency_key_reused" {
		t.Errorf("reuse with another body = %d %s, want 422 idempotency_key_reused", other.status, other.raw)
	}
	// The key as an input field is the same key.
	inField := strings.Replace(f.body(3), `{"order"`, `{"idempotency_key":"order-1","order"`, 1)
	if r := e.callKey(e.conn.ID, "pax8.create_order", "", inField); r.status != http.StatusOK || r.raw != first.raw {
		t.Errorf("key in the input = %d %s, want the recorded answer", r.status, r.raw)
	}
	if got := e.orders(f.company); got != before+1 {
		t.Errorf("%d orders created, want 1", got-before)
	}
}

// TestIdempotencyBadKey: a key over 255 characters, an empty one, or one
// that disagrees between header and input is refused with 400 and changes
// nothing.
func TestIdempotencyBadKey(t *testing.T) {
	e := newEnv(t, action.Options{})
	f := e.orderFixture()
	before := e.orders(f.company)
	for _, tc := range []struct{ name, key, body string }{
		{"256 characters", strings.Repeat("k", 256), f.body(1)},
		{"control character", "a\tb", f.body(1)},
		{"empty in the input", "", strings.Replace(f.body(1), `{"order"`, `{"idempotency_key":"","order"`, 1)},
		{"header and input disagree", "one", strings.Replace(f.body(1), `{"order"`, `{"idempotency_key":"two","order"`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.callKey(e.conn.ID, "pax8.create_order", tc.key, tc.body)
			if r.status != http.StatusBadRequest || r.Error.Code != "invalid_input" || r.Error.Field != "idempotency_key" {
				t.Errorf("= %d %s, want 400 invalid_input on idempotency_key", r.status, r.raw)
			}
		})
	}
	if got := e.orders(f.company); got != before {
		t.Errorf("%d orders created by refused requests", got-before)
	}
	if r := e.callKey(e.conn.ID, "pax8.create_order", strings.Repeat("k", 255), f.body(1)); r.status != http.StatusOK {
		t.Errorf("255-character key = %d %s, want 200", r.status, r.raw)
	}
}

// TestIdempotencyPerTenantSEC43: tenant B using tenant A's key neither
// sees A's answer nor waits for A's attempt in flight; A's own duplicate
// waits (SEC-43, caller isolation).
func TestIdempotencyPerTenantSEC43(t *testing.T) {
	e := newEnv(t, action.Options{})
	if r := e.callKey(e.conn.ID, "pax8.create_company", "shared", companyBody("Tenant A Co")); r.status != http.StatusOK {
		t.Fatalf("A create_company = %d %s", r.status, r.raw)
	}
	tenantB, keyB := e.Tenant(t, "beta")
	connB := e.Connect(t, tenantB, testenv.OtherPartner)
	b := e.callKeyAs(keyB, connB.ID, "pax8.create_company", "shared", companyBody("Tenant B Co"))
	var got pax8.Company
	if b.status != http.StatusOK || b.header.Get("Idempotent-Replayed") != "" || json.Unmarshal(b.Result, &got) != nil || got.Name != "Tenant B Co" {
		t.Errorf("B with A's key = %d %s, want B's own new company", b.status, b.raw)
	}

	// A's "busy" is in flight (its POST is slow) while B uses the key.
	e.fault(sandbox.Fault{Kind: "slow", Endpoint: "api", Delay: 1500 * time.Millisecond})
	var wg sync.WaitGroup
	var first, dup reply
	wg.Go(func() { first = e.callKey(e.conn.ID, "pax8.create_company", "busy", companyBody("Busy A Co")) })
	time.Sleep(300 * time.Millisecond)
	wg.Go(func() { dup = e.callKey(e.conn.ID, "pax8.create_company", "busy", companyBody("Busy A Co")) })
	start := time.Now()
	b = e.callKeyAs(keyB, connB.ID, "pax8.create_company", "busy", companyBody("Busy B Co"))
	if took := time.Since(start); b.status != http.StatusOK || took > time.Second {
		t.Errorf("B with A's in-flight key = %d %s after %v, want 200 at once", b.status, b.raw, took)
	}
	wg.Wait()
	if first.status != http.StatusOK || dup.status != http.StatusOK || dup.raw != first.raw || dup.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("A's duplicate = %d %s, want A's first answer %d %s", dup.status, dup.raw, first.status, first.raw)
	}
}

// TestIdempotencyInUse: a duplicate that waited IdempotencyWait for an
// attempt still in flight gets 409 idempotency_key_in_use.
func TestIdempotencyInUse(t *testing.T) {
	e := newEnv(t, action.Options{IdempotencyWait: 200 * time.Millisecond})
	e.fault(sandbox.Fault{Kind: "slow", Endpoint: "api", Delay: time.Second})
	var wg sync.WaitGroup
	wg.Go(func() { e.callKey(e.conn.ID, "pax8.create_company", "slow", companyBody("Slow Co")) })
	time.Sleep(100 * time.Millisecond)
	r := e.callKey(e.conn.ID, "pax8.create_company", "slow", companyBody("Slow Co"))
	if r.status != http.StatusConflict || r.Error.Code != "idempotency_key_in_use" || r.header.Get("Retry-After") == "" {
		t.Errorf("duplicate = %d %s, want 409 idempotency_key_in_use with Retry-After", r.status, r.raw)
	}
	wg.Wait()
}

func companyBody(name string) string {
	return fmt.Sprintf(`{"company":{"name":%q,"phone":"+1 555 0100","website":"https://test.example","address":{"street":"1 Main St","city":"Denver","postalCode":"80202","country":"US","stateOrProvince":"CO"},"billOnBehalfOfEnabled":false,"selfServiceAllowed":false,"orderApprovalRequired":false}}`, name)
}

// TestIdempotencyConcurrent: concurrent duplicates, through two API
// servers sharing the store (two replicas), wait for the first and get its
// answer; one order is placed.
func TestIdempotencyConcurrent(t *testing.T) {
	e := newEnv(t, action.Options{})
	replica := newReplica(t, e, action.Options{})
	f := e.orderFixture()
	before := e.orders(f.company)
	// The first POST is slow, so the others arrive while it is in flight.
	e.fault(sandbox.Fault{Kind: "slow", Endpoint: "api", Delay: 300 * time.Millisecond})
	const n = 8
	var wg sync.WaitGroup
	answers := make([]reply, n)
	for i := range n {
		wg.Go(func() {
			srv := e.srv.URL
			if i%2 == 1 {
				srv = replica
			}
			answers[i] = e.callAt(srv, e.conn.ID, "pax8.create_order", "same", f.body(2))
		})
	}
	wg.Wait()
	for i, r := range answers {
		if r.status != http.StatusOK || string(r.Result) != string(answers[0].Result) {
			t.Errorf("caller %d = %d %s, want 200 and caller 0's answer %s", i, r.status, r.raw, answers[0].Result)
		}
	}
	if got := e.orders(f.company); got != before+1 {
		t.Errorf("%d orders placed, want 1", got-before)
	}
}

// TestIdempotencyLeaseRenewed: an attempt slower than its lease renews it,
// so a duplicate on another replica waits instead of taking the key over
// and ordering again.
func TestIdempotencyLeaseRenewed(t *testing.T) {
	ao := action.Options{IdempotencyLease: 300 * time.Millisecond}
	e := newEnv(t, ao)
	replica := newReplica(t, e, ao)
	f := e.orderFixture()
	before := e.orders(f.company)
	e.fault(sandbox.Fault{Kind: "slow", Endpoint: "api", Delay: 1200 * time.Millisecond})
	var wg sync.WaitGroup
	var first reply
	wg.Go(func() { first = e.callKey(e.conn.ID, "pax8.create_order", "slow-order", f.body(4)) })
	time.Sleep(100 * time.Millisecond)
	dup := e.callAt(replica, e.conn.ID, "pax8.create_order", "slow-order", f.body(4))
	wg.Wait()
	if first.status != http.StatusOK || dup.status != http.StatusOK || dup.raw != first.raw {
		t.Errorf("first = %d %s, duplicate = %d %s; want the same 200", first.status, first.raw, dup.status, dup.raw)
	}
	if got := e.orders(f.company); got != before+1 {
		t.Errorf("%d orders placed, want 1", got-before)
	}
}

// TestIdempotencyLostAnswer: when the answer to a write is lost after the
// write happened (connection closed, or a 502), grantd reads Pax8, finds
// the write and records it, without sending it again; when the write did
// not happen (a 500 before it), it sends it once more.
func TestIdempotencyLostAnswer(t *testing.T) {
	e := newEnv(t, action.Options{})
	f := e.orderFixture()
	var subs page[pax8.Subscription]
	e.mustRun("pax8.list_subscriptions", map[string]any{"size": 10, "status": "Active"}, &subs)
	if len(subs.Content) < 3 {
		t.Fatal("too few active subscriptions")
	}
	for i, fault := range []sandbox.Fault{
		{Kind: "drop_after", Endpoint: "api"},
		{Kind: "server_error_after", Endpoint: "api", Status: http.StatusBadGateway},
		{Kind: "server_error", Endpoint: "api"},
	} {
		t.Run(fmt.Sprintf("%s %d", fault.Kind, fault.Status), func(t *testing.T) {
			before := e.orders(f.company)
			e.fault(fault)
			r := e.callKey(e.conn.ID, "pax8.create_order", fmt.Sprintf("lost-order-%d", i), f.body(5+i))
			if r.status != http.StatusOK {
				t.Fatalf("create_order = %d %s", r.status, r.raw)
			}
			if got := e.orders(f.company); got != before+1 {
				t.Errorf("%d orders placed, want 1", got-before)
			}
			var o pax8.Order
			if err := json.Unmarshal(r.Result, &o); err != nil || o.ID == "" || len(o.LineItems) != 1 || o.LineItems[0].Quantity != pax8.Number(5+i) {
				t.Errorf("create_order result = %s, want the order", r.Result)
			}

			sub := subs.Content[i]
			e.fault(fault)
			body := fmt.Sprintf(`{"subscription_id":%q,"update":{"quantity":%d}}`, sub.ID, int(sub.Quantity)+7)
			if r := e.callKey(e.conn.ID, "pax8.update_subscription", fmt.Sprintf("lost-update-%d", i), body); r.status != http.StatusOK {
				t.Errorf("update_subscription = %d %s", r.status, r.raw)
			}
			e.fault(fault)
			body = fmt.Sprintf(`{"subscription_id":%q}`, sub.ID)
			if r := e.callKey(e.conn.ID, "pax8.cancel_subscription", fmt.Sprintf("lost-cancel-%d", i), body); r.status != http.StatusOK || !strings.Contains(string(r.Result), `"cancelled":true`) {
				t.Errorf("cancel_subscription = %d %s", r.status, r.raw)
			}
			e.fault(fault)
			name := fmt.Sprintf("Lost Answer Co %d", i)
			if r := e.callKey(e.conn.ID, "pax8.create_company", fmt.Sprintf("lost-company-%d", i), companyBody(name)); r.status != http.StatusOK {
				t.Errorf("create_company = %d %s", r.status, r.raw)
			}
			var cos page[pax8.Company]
			e.mustRun("pax8.list_companies", map[string]any{"all": true}, &cos)
			if n := len(slices.DeleteFunc(cos.Content, func(c pax8.Company) bool { return c.Name != name })); n != 1 {
				t.Errorf("%d companies named %q, want 1", n, name)
			}
		})
	}
}

// TestIdempotencyRetryAfterLostAnswer: the answer is lost and the look
// fails too, so the caller gets an error; its retry with the key takes the
// key over, looks, finds the order and answers with it: one order.
func TestIdempotencyRetryAfterLostAnswer(t *testing.T) {
	e := newEnv(t, action.Options{})
	f := e.orderFixture()
	before := e.orders(f.company)
	e.fault(sandbox.Fault{Kind: "drop_after", Endpoint: "api"})
	e.fault(sandbox.Fault{Kind: "server_error", Endpoint: "api"})
	r := e.callKey(e.conn.ID, "pax8.create_order", "retry-me", f.body(9))
	if r.status < 500 {
		t.Fatalf("first attempt = %d %s, want a 5xx", r.status, r.raw)
	}
	r = e.callKey(e.conn.ID, "pax8.create_order", "retry-me", f.body(9))
	if r.status != http.StatusOK {
		t.Fatalf("retry = %d %s", r.status, r.raw)
	}
	if got := e.orders(f.company); got != before+1 {
		t.Errorf("%d orders placed, want 1", got-before)
	}
}

// TestSetQuantity: pax8.set_quantity writes only when the quantity
// differs from the target.
func TestSetQuantity(t *testing.T) {
	e := newEnv(t, action.Options{})
	var subs page[pax8.Subscription]
	e.mustRun("pax8.list_subscriptions", map[string]any{"size": 1, "status": "Active"}, &subs)
	sub := subs.Content[0]
	target := int(sub.Quantity) + 3
	var got pax8.Subscription
	e.mustRun("pax8.set_quantity", map[string]any{"subscription_id": sub.ID, "quantity": target}, &got)
	if int(got.Quantity) != target {
		t.Fatalf("set_quantity = %v, want %d", got.Quantity, target)
	}
	calls := e.APICalls()
	e.mustRun("pax8.set_quantity", map[string]any{"subscription_id": sub.ID, "quantity": target}, &got)
	if int(got.Quantity) != target || e.APICalls() != calls+1 {
		t.Errorf("set_quantity again = %v with %d calls, want %d with one read", got.Quantity, e.APICalls()-calls, target)
	}
	r := e.call(e.conn.ID, "pax8.set_quantity", fmt.Sprintf(`{"subscription_id":%q,"quantity":0}`, sub.ID))
	if r.status != http.StatusBadRequest || r.Error.Field != "quantity" {
		t.Errorf("set_quantity 0 = %d %s, want 400 on quantity", r.status, r.raw)
	}
}

// TestIdempotencyFreedAndExpired: a write Pax8 refused frees its key, so a
// corrected request may use it; a done key is forgotten after 24 hours.
func TestIdempotencyFreedAndExpired(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, action.Options{Now: clock})
	f := e.orderFixture()
	bad := orderFixture{company: f.company, product: "00000000-0000-0000-0000-000000000000"}
	r := e.callKey(e.conn.ID, "pax8.create_order", "fix-me", bad.body(1))
	if r.status < 400 || r.status >= 500 || r.Error.Code != "upstream_rejected" && r.Error.Code != "upstream_not_found" {
		t.Fatalf("order of an unknown product = %d %s, want a 4xx from Pax8", r.status, r.raw)
	}
	first := e.callKey(e.conn.ID, "pax8.create_order", "fix-me", f.body(1))
	if first.status != http.StatusOK {
		t.Fatalf("corrected order with the same key = %d %s, want 200", first.status, first.raw)
	}
	if r := e.callKey(e.conn.ID, "pax8.create_order", "fix-me", f.body(2)); r.status != http.StatusUnprocessableEntity {
		t.Errorf("other body within 24 h = %d %s, want 422", r.status, r.raw)
	}
	mu.Lock()
	now = now.Add(24*time.Hour + time.Second)
	mu.Unlock()
	if r := e.callKey(e.conn.ID, "pax8.create_order", "fix-me", f.body(2)); r.status != http.StatusOK || r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("other body after 24 h = %d %s, want a new 200", r.status, r.raw)
	}
}
