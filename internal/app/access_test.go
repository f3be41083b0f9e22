package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

const (
	opPartner = "op-pax8-partner" // no tenant list: the operator's only
	opListed  = "op-pax8-listed"  // lists one tenant
	listedID  = "ten_listed"
	partnerID = "partner-api-client"
)

// accessStack is a stack with two operator client-credentials
// integrations, the tenant "Acme" of startStack (not listed anywhere) and
// a second tenant, listedID, named by opListed. It returns the stack and
// the listed tenant's key.
func accessStack(t *testing.T, tune ...func(*config.Config)) (*stack, string) {
	t.Helper()
	const partnerSecret = "partner-api-secret-canary"
	s := startStack(t, testLogger(t), func(cfg *config.Config) {
		reg, err := cfg.Registry()
		if err != nil {
			t.Fatal(err)
		}
		pax8, _ := reg.Get("pax8") // the sandbox's, for its API base
		pp, err := config.Parse(fmt.Appendf(nil, `providers:
  - {name: pax8-partner, extends: pax8-partner, token_url: %q, api: {base_url: %q}}
`, pax8.API.BaseURL+"/token", pax8.API.BaseURL))
		if err != nil {
			t.Fatalf("config.Parse: %v", err)
		}
		cfg.Providers = append(cfg.Providers, pp.Providers...)
		for _, id := range []string{opPartner, opListed} {
			in := config.Integration{ID: id, Provider: "pax8-partner", ClientID: partnerID, ClientSecret: config.Secret(partnerSecret)}
			if id == opListed {
				in.Tenants = []string{listedID}
			}
			cfg.Integrations = append(cfg.Integrations, in)
		}
		cfg.ApplyDefaults()
		for _, f := range tune {
			f(cfg)
		}
	})
	s.sandbox.RegisterClient(sandbox.Pax8, sandbox.Client{ID: partnerID, Secret: partnerSecret})
	if err := s.app.Store().CreateTenant(t.Context(), store.Tenant{ID: listedID, Name: "Listed MSP"}); err != nil {
		t.Fatal(err)
	}
	key, err := tenant.NewKey(t.Context(), s.app.Store(), listedID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s, key
}

// as returns a copy of s that calls the API with key.
func (s *stack) as(key string) *stack {
	c := *s
	c.apiKey = key
	return &c
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// callRaw is call that decodes any answer into out.
func (s *stack) callRaw(t *testing.T, method, path string, in any, out *json.RawMessage, extra http.Header) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.publicURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, extra)
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	*out, _ = io.ReadAll(resp.Body)
	return resp.StatusCode
}

// callErr sends a request that must fail and returns its status and code.
func (s *stack) callErr(t *testing.T, method, path string, in any, extra http.Header) (int, string) {
	t.Helper()
	var raw json.RawMessage
	st := s.callRaw(t, method, path, in, &raw, extra)
	var e apiError
	json.Unmarshal(raw, &e)
	return st, e.Error.Code
}

// TestOperatorCredentialAccessSEC43: an operator's client-credentials
// integration without a tenant list is the operator's identity, so no
// tenant may connect through it, list it, or use a connection the admin
// made through it for that tenant, and each refusal is the 404 of an
// unknown id; a listed tenant may, and an unlisted one still may not.
func TestOperatorCredentialAccessSEC43(t *testing.T) {
	s, listedKey := accessStack(t)
	acme, listed := s, s.as(listedKey)
	admin := s.as("admin-key-for-tests-0123456789abcdef")
	asAcme := http.Header{"X-Grantd-Tenant": {s.tenantID}}

	unknownStatus, unknownCode := acme.callErr(t, http.MethodPost, "/v1/connections", map[string]string{"integration_id": "no-such-integration"}, nil)
	if unknownStatus != http.StatusNotFound {
		t.Fatalf("POST /v1/connections (unknown id) = %d, want 404", unknownStatus)
	}
	for _, tc := range []struct {
		who  *stack
		name string
		id   string
	}{
		{acme, "acme", opPartner},
		{listed, "listed", opPartner},
		{acme, "acme", opListed},
	} {
		st, code := tc.who.callErr(t, http.MethodPost, "/v1/connections", map[string]string{"integration_id": tc.id}, nil)
		if st != unknownStatus || code != unknownCode {
			t.Errorf("%s: POST /v1/connections %s = %d %s, want %d %s as for an unknown id", tc.name, tc.id, st, code, unknownStatus, unknownCode)
		}
		st, code = tc.who.callErr(t, http.MethodPost, "/v1/connect-sessions", map[string]string{"integration_id": tc.id}, nil)
		if st != unknownStatus || code != unknownCode {
			t.Errorf("%s: POST /v1/connect-sessions %s = %d %s, want %d %s", tc.name, tc.id, st, code, unknownStatus, unknownCode)
		}
	}
	st, code := acme.callErr(t, http.MethodPost, "/v1/connect-sessions", map[string]string{"provider": "pax8-partner"}, nil)
	if st != http.StatusNotFound {
		t.Errorf("acme: POST /v1/connect-sessions provider pax8-partner = %d %s, want 404", st, code)
	}

	listIDs := func(who *stack, extra http.Header) []string {
		t.Helper()
		var out struct {
			Integrations []struct {
				ID string `json:"id"`
			} `json:"integrations"`
		}
		if st := who.call(t, http.MethodGet, "/v1/integrations", nil, &out, extra); st != http.StatusOK {
			t.Fatalf("GET /v1/integrations = %d", st)
		}
		var ids []string
		for _, in := range out.Integrations {
			ids = append(ids, in.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got, want := listIDs(acme, nil), []string{stackIntegration}; !slices.Equal(got, want) {
		t.Errorf("acme: GET /v1/integrations = %q, want %q (the delegated one only)", got, want)
	}
	if got, want := listIDs(listed, nil), []string{opListed, stackIntegration}; !slices.Equal(got, want) {
		t.Errorf("listed: GET /v1/integrations = %q, want %q", got, want)
	}
	if got, want := listIDs(admin, asAcme), []string{opListed, opPartner, stackIntegration}; !slices.Equal(got, want) {
		t.Errorf("admin for acme: GET /v1/integrations = %q, want %q", got, want)
	}

	// The listed tenant connects and uses its connection.
	var conn struct {
		ID string `json:"id"`
	}
	if st := listed.call(t, http.MethodPost, "/v1/connections", map[string]string{"integration_id": opListed}, &conn, nil); st != http.StatusCreated {
		t.Fatalf("listed: POST /v1/connections %s = %d, want 201", opListed, st)
	}
	if st := listed.call(t, http.MethodGet, "/v1/proxy/"+conn.ID+"/companies", nil, nil, nil); st != http.StatusOK {
		t.Errorf("listed: proxy through its connection = %d, want 200", st)
	}
	if st, _ := acme.callErr(t, http.MethodGet, "/v1/connections/"+conn.ID, nil, nil); st != http.StatusNotFound {
		t.Errorf("acme: GET another tenant's connection = %d, want 404", st)
	}

	// The admin may connect the operator's credential for acme; acme still
	// cannot see or use that connection.
	if st := admin.call(t, http.MethodPost, "/v1/connections", map[string]string{"integration_id": opPartner}, &conn, asAcme); st != http.StatusCreated {
		t.Fatalf("admin for acme: POST /v1/connections %s = %d, want 201", opPartner, st)
	}
	if st := admin.call(t, http.MethodGet, "/v1/connections/"+conn.ID+"/token", nil, nil, asAcme); st != http.StatusOK {
		t.Errorf("admin for acme: GET token = %d, want 200", st)
	}
	for _, path := range []string{
		"/v1/connections/" + conn.ID,
		"/v1/connections/" + conn.ID + "/token",
		"/v1/connections/" + conn.ID + "/events",
		"/v1/proxy/" + conn.ID + "/companies",
	} {
		if st, code := acme.callErr(t, http.MethodGet, path, nil, nil); st != http.StatusNotFound {
			t.Errorf("acme: GET %s = %d %s, want 404", path, st, code)
		}
	}
	if st, _ := acme.callErr(t, http.MethodDelete, "/v1/connections/"+conn.ID, nil, nil); st != http.StatusNotFound {
		t.Errorf("acme: DELETE the operator's connection = %d, want 404", st)
	}
	var list struct {
		Connections []struct {
			ID string `json:"id"`
		} `json:"connections"`
	}
	if st := acme.call(t, http.MethodGet, "/v1/connections", nil, &list, nil); st != http.StatusOK || len(list.Connections) != 0 {
		t.Errorf("acme: GET /v1/connections = %d with %d connections, want 200 with none", st, len(list.Connections))
	}
	if c, err := s.app.Store().GetConnection(t.Context(), conn.ID); err != nil || c.Status != store.StatusActive {
		t.Errorf("the admin's connection after acme's refused calls = %v, %v; want it active and untouched", c.Status, err)
	}
}
