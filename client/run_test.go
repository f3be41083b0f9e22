package grantd

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunActionWithKey checks that the key travels in the Idempotency-Key
// header, that Idempotent-Replayed: true is reported, and that a bad key
// is refused before anything is sent.
func TestRunActionWithKey(t *testing.T) {
	var (
		mu   sync.Mutex
		keys []string
	)
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		if n > 1 {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"result":{"id":"cmp_1"}}`)
	}))
	ctx := t.Context()
	var got struct{ ID string }
	for i, want := range []bool{false, true} {
		replayed, err := c.RunActionWithKey(ctx, "con_1", "pax8.create_company", "order-42", map[string]string{"name": "Acme"}, &got)
		if err != nil || replayed != want || got.ID != "cmp_1" {
			t.Errorf("call %d: RunActionWithKey = %v, %v, result %+v; want replayed %v", i, replayed, err, got, want)
		}
	}
	if err := c.RunAction(ctx, "con_1", "pax8.list_companies", nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", strings.Repeat("k", MaxIdempotencyKey+1), "a\r\nX-Evil: 1", "clé"} {
		if _, err := c.RunActionWithKey(ctx, "con_1", "pax8.create_company", bad, nil, nil); err == nil {
			t.Errorf("RunActionWithKey(key %q) = nil error", bad)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"order-42", "order-42", ""}, keys); diff != "" {
		t.Errorf("Idempotency-Key headers sent (-want +got):\n%s", diff)
	}
}

// TestConnectionsFilters checks that ListOptions become the query and that
// end_user and tags decode.
func TestConnectionsFilters(t *testing.T) {
	var query string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"connections":[{"id":"con_1","status":"active","scopes":[],"version":1,
			"end_user":{"id":"u1","email":"u1@example.com"},"tags":["eu","gold"],"requested_scopes":["a","b"]}]}`)
	}))
	conns, err := c.Connections(t.Context(), ListOptions{Tag: "eu gold", EndUserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if query != "end_user_id=u1&tag=eu+gold" {
		t.Errorf("query %q, want end_user_id=u1&tag=eu+gold", query)
	}
	want := []Connection{{ID: "con_1", Status: StatusActive, Scopes: []string{}, Version: 1,
		EndUser: EndUser{ID: "u1", Email: "u1@example.com"}, Tags: []string{"eu", "gold"}, RequestedScopes: []string{"a", "b"}}}
	if diff := cmp.Diff(want, conns); diff != "" {
		t.Errorf("Connections (-want +got):\n%s", diff)
	}
	if _, err := c.Connections(t.Context(), ListOptions{}); err != nil || query != "" {
		t.Errorf("Connections(no filter) sent query %q, %v", query, err)
	}
}

// TestConnectSessionRequestWire checks the JSON of end_user and tags, and
// that an empty end user is left out.
func TestConnectSessionRequestWire(t *testing.T) {
	b, err := json.Marshal(ConnectSessionRequest{Provider: "pax8", EndUser: EndUser{ID: "u1"}, Tags: []string{"eu"}})
	if err != nil || string(b) != `{"provider":"pax8","end_user":{"id":"u1"},"tags":["eu"]}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	if b, _ := json.Marshal(ConnectSessionRequest{Provider: "pax8"}); string(b) != `{"provider":"pax8"}` {
		t.Errorf("Marshal without end user = %s", b)
	}
}

// TestConnectResultKey checks the key's decoding and that an answer with
// another algorithm or a bad key is an error.
func TestConnectResultKey(t *testing.T) {
	body := ""
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	key := []byte("0123456789abcdef0123456789abcdef")
	body = `{"key":"` + base64.RawURLEncoding.EncodeToString(key) + `","algorithm":"HMAC-SHA256"}`
	if got, err := c.ConnectResultKey(t.Context()); err != nil || string(got) != string(key) {
		t.Errorf("ConnectResultKey = %q, %v; want %q", got, err, key)
	}
	for _, bad := range []string{`{"key":"a2V5","algorithm":"HMAC-MD5"}`, `{"key":"!!","algorithm":"HMAC-SHA256"}`, `{"key":"","algorithm":"HMAC-SHA256"}`} {
		body = bad
		if got, err := c.ConnectResultKey(t.Context()); err == nil {
			t.Errorf("ConnectResultKey with %s = %q, nil error", bad, got)
		}
	}
}
