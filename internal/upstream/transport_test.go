package upstream_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/upstream"
)

// tokens is a working token source for one connection: Refresh issues the
// next token, as the broker would.
type tokens struct {
	mu        sync.Mutex
	current   string
	refreshes int
}

func (s *tokens) TenantToken(ctx context.Context, tenantID, id string) (broker.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tenantID != "t1" || id != "c1" {
		return broker.Token{}, &broker.Error{Code: broker.CodeNotFound, Msg: "connection " + id + " not found"}
	}
	return broker.Token{ConnectionID: id, TenantID: tenantID, Provider: "pax8", AccessToken: s.current}, nil
}

func (s *tokens) Refresh(ctx context.Context, id, _ string) (broker.Token, error) {
	s.mu.Lock()
	s.refreshes++
	s.current = "at-2"
	s.mu.Unlock()
	return s.TenantToken(ctx, "t1", id)
}

// newTransport serves the provider API with h and returns a Transport
// whose pax8 provider points at it.
func newTransport(t *testing.T, h http.HandlerFunc) (*upstream.Transport, *tokens, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ps := provider.Builtin()
	for i := range ps {
		if ps[i].Name == "pax8" {
			ps[i].API.BaseURL = srv.URL + "/v1"
		}
	}
	reg, err := provider.NewRegistry(ps...)
	if err != nil {
		t.Fatal(err)
	}
	tk := &tokens{current: "at-1"}
	return &upstream.Transport{Tokens: tk, Providers: reg}, tk, srv.URL
}

// TestTransportRefreshesOnceOn401: a 401 forces one refresh and one retry
// with the new token; a body that can be replayed is sent again.
func TestTransportRefreshesOnceOn401(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	tr, tk, base := newTransport(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer at-2" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	})
	ctx := upstream.WithConnection(t.Context(), "t1", "c1")
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/companies", strings.NewReader(`{"a":1}`))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || tk.refreshes != 1 || len(seen) != 2 || seen[0] != "Bearer at-1" || seen[1] != "Bearer at-2" {
		t.Errorf("status %d after %d refreshes with tokens %q, want 200 after 1 refresh (at-1 then at-2)", resp.StatusCode, tk.refreshes, seen)
	}
}

// TestTransportRefusesOffBaseSEC40: a URL outside the provider's API base
// gets no token and no request; a context without a connection neither.
func TestTransportRefusesOffBaseSEC40(t *testing.T) {
	calls := 0
	tr, _, base := newTransport(t, func(w http.ResponseWriter, r *http.Request) { calls++ })
	ctx := upstream.WithConnection(t.Context(), "t1", "c1")
	for _, u := range []string{base + "/other", base + "/v1/../admin", "http://127.0.0.2:1/v1/x"} {
		req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		if _, err := tr.RoundTrip(req); !errors.Is(err, upstream.ErrOffBase) {
			t.Errorf("RoundTrip(%s) = %v, want ErrOffBase", u, err)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/v1/x", nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, upstream.ErrNoConnection) {
		t.Errorf("RoundTrip without a connection = %v, want ErrNoConnection", err)
	}
	if calls != 0 {
		t.Errorf("the provider API received %d requests, want 0", calls)
	}
}
