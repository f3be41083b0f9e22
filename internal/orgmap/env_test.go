package orgmap_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/orgmap"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/upstream"
)

// env is the real back end (sandbox, SQLite, broker) with the orgmap
// routes on the JSON API over loopback, and two tenants, each with a
// connection to its own sandbox partner.
type env struct {
	t      testing.TB
	e      *testenv.Env
	svc    *orgmap.Service
	clk    *testenv.Clock
	srv    *httptest.Server
	tenA   store.Tenant
	keyA   string
	connA  store.Connection
	tenB   store.Tenant
	keyB   string
	connB  store.Connection
	mux    *http.ServeMux
	client *http.Client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, testenv.Options{}, nil)
}

// newEnvWith is newEnv with the back end built from topts and the
// service's options edited by edit (when not nil).
func newEnvWith(t testing.TB, topts testenv.Options, edit func(*orgmap.Options)) *env {
	t.Helper()
	e := testenv.New(t, topts)
	clk := testenv.NewClock()
	opts := orgmap.Options{
		Broker:    e.Broker,
		Store:     e.Store,
		Transport: &upstream.Transport{Tokens: e.Broker, Providers: e.Providers},
		Now:       clk.Now,
		Logger:    e.Logger,
	}
	if edit != nil {
		edit(&opts)
	}
	svc, err := orgmap.New(opts)
	if err != nil {
		t.Fatalf("orgmap.New: %v", err)
	}
	apiSrv := api.New(api.Options{Broker: e.Broker, Store: e.Store, Logger: e.Logger, KeyCacheTTL: -1})
	svc.Routes(apiSrv)
	mux := http.NewServeMux()
	mux.Handle("/v1/", apiSrv)
	mux.Handle(orgmap.PagePath, svc.Page())
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	v := &env{t: t, e: e, svc: svc, clk: clk, srv: ts, mux: mux, client: ts.Client()}
	ctx := t.Context()
	if v.tenA, v.keyA, err = tenant.Create(ctx, e.Store, "Tenant A", time.Now()); err != nil {
		t.Fatal(err)
	}
	if v.tenB, v.keyB, err = tenant.Create(ctx, e.Store, "Tenant B", time.Now()); err != nil {
		t.Fatal(err)
	}
	v.connA = e.Connect(t, v.tenA.ID, testenv.Partner)
	v.connB = e.Connect(t, v.tenB.ID, testenv.OtherPartner)
	return v
}

// do sends a request with key and decodes a JSON response into out (when
// not nil). It returns the status.
func (v *env) do(key, method, path string, body any, out any) int {
	v.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			v.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(v.t.Context(), method, v.srv.URL+path, rd)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			v.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	if e, ok := out.(*apiError); ok && resp.StatusCode >= 400 {
		if err := json.Unmarshal(raw, e); err != nil {
			v.t.Fatalf("%s %s: decode error %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// mappings is GET /v1/connections/{id}/org-mappings as tenant A.
func (v *env) mappings(key, connID string) orgmap.Result {
	v.t.Helper()
	var res orgmap.Result
	if st := v.do(key, http.MethodGet, "/v1/connections/"+connID+"/org-mappings", nil, &res); st != http.StatusOK {
		v.t.Fatalf("GET org-mappings = %d, want 200", st)
	}
	return res
}
