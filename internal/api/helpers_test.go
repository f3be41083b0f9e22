package api_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/tenant"
	"github.com/grantd/grantd/internal/vault"
)

const (
	publicURL = "https://grantd.example"
	appURL    = "https://app.example/done"
)

// countingStore is the real SQLite store, counting the reads the hot path
// must avoid.
type countingStore struct {
	store.Store
	keyReads, connReads atomic.Int64
}

func (c *countingStore) GetAPIKeyByHash(ctx context.Context, h []byte) (store.APIKey, error) {
	c.keyReads.Add(1)
	return c.Store.GetAPIKeyByHash(ctx, h)
}

func (c *countingStore) GetConnection(ctx context.Context, id string) (store.Connection, error) {
	c.connReads.Add(1)
	return c.Store.GetConnection(ctx, id)
}

type env struct {
	t        testing.TB
	st       *countingStore
	vault    *vault.Keyring
	broker   *broker.Broker
	api      *api.Server
	srv      *httptest.Server
	reg      *prometheus.Registry
	logs     *syncBuffer
	adminKey string
	// integration is the operator's pax8 integration.
	integration store.Integration
	// revokeStatus is what pax8's revocation endpoint answers (200 when
	// zero); revokes counts the requests it received.
	revokeStatus, revokes atomic.Int32
}

// syncBuffer collects logs written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newEnv builds the API on a real SQLite store, served on loopback. Each
// of tune, when given, adjusts the API's options.
func newEnv(t testing.TB, tune ...func(*api.Options)) *env {
	t.Helper()
	return newEnvOn(t, storetest.NewSQLite(t), tune...)
}

// newEnvOn is newEnv on the store dsn names (SQLite or PostgreSQL).
func newEnvOn(t testing.TB, dsn string, tune ...func(*api.Options)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	st := &countingStore{Store: db}
	key, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := vault.New([]vault.Key{key}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// pax8's revocation endpoint is a loopback server, never the vendor.
	e := &env{t: t}
	revoker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.revokes.Add(1)
		w.WriteHeader(cmp.Or(int(e.revokeStatus.Load()), http.StatusOK))
	}))
	t.Cleanup(revoker.Close)
	builtins := provider.Builtin()
	for i := range builtins {
		if builtins[i].RevocationURL != "" {
			builtins[i].RevocationURL = revoker.URL + "/oauth/revoke"
		}
	}
	reg, err := provider.NewRegistry(builtins...)
	if err != nil {
		t.Fatal(err)
	}
	logs := newSyncBuffer()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := broker.New(broker.Options{
		Store:         st,
		Vault:         kr,
		Providers:     reg,
		PublicURL:     publicURL,
		ReturnToAllow: []string{"https://app.example/"},
		Logger:        logger,
		TokenCacheTTL: time.Minute,
	})
	if err != nil {
		t.Fatalf("broker.New: %v", err)
	}
	promReg := prometheus.NewRegistry()
	e.st, e.vault, e.broker, e.reg, e.logs, e.adminKey = st, kr, b, promReg, logs, "admin-"+rand.Text()
	opts := api.Options{
		Broker:   b,
		Store:    st,
		Vault:    kr,
		AdminKey: e.adminKey,
		Logger:   logger,
		Registry: promReg,
	}
	for _, f := range tune {
		f(&opts)
	}
	e.api = api.New(opts)
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)

	p, _ := reg.Get("pax8")
	now := time.Now().UTC()
	e.integration = store.Integration{
		ID: "int_operator_pax8", Provider: "pax8", Name: "Pax8", ClientID: "operator-client",
		RedirectURI: publicURL + "/oauth/callback/int_operator_pax8", Scopes: p.Scopes, Audience: p.Audience,
		IsDefault: true, CreatedAt: now, UpdatedAt: now,
	}
	e.integration.ClientSecret, err = kr.Seal([]byte("operator-secret"), vault.AAD("integration", e.integration.ID, "client_secret"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegration(ctx, e.integration); err != nil {
		t.Fatalf("CreateIntegration: %v", err)
	}
	return e
}

// tenant creates a tenant and returns its id and API key.
func (e *env) tenant(name string) (string, string) {
	e.t.Helper()
	tn, key, err := tenant.Create(context.Background(), e.st, name, time.Now())
	if err != nil {
		e.t.Fatalf("tenant.Create: %v", err)
	}
	return tn.ID, key
}

// connection stores an active connection of tenantID holding access token
// at, valid for an hour, and returns its id.
func (e *env) connection(tenantID, at string, status store.Status) string {
	e.t.Helper()
	now := time.Now().UTC()
	c := store.Connection{
		ID: "conn_" + strings.ToLower(rand.Text()[:16]), TenantID: tenantID, IntegrationID: e.integration.ID,
		Provider: "pax8", Status: status, Subject: "auth0|partner", Email: "partner@example-msp.test",
		Scopes: []string{"Manage:Pax8Data", "offline_access"}, TokenType: "Bearer",
		AccessExpiresAt: now.Add(time.Hour).Truncate(time.Second), ConnectedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	var err error
	if c.AccessToken, err = e.vault.Seal([]byte(at), vault.AAD("connection", c.ID, "access_token")); err != nil {
		e.t.Fatal(err)
	}
	if c.RefreshToken, err = e.vault.Seal([]byte("rt-"+at), vault.AAD("connection", c.ID, "refresh_token")); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.CreateConnection(context.Background(), c); err != nil {
		e.t.Fatalf("CreateConnection: %v", err)
	}
	return c.ID
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the one error shape.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (r response) errorCode() string {
	var b errorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		return "<not an error body: " + string(r.body) + ">"
	}
	return b.Error.Code
}

// do sends method path with key (if any) and a JSON body (if not nil;
// a string is sent as is).
func (e *env) do(method, path, key string, body any, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func decodeJSON[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}
