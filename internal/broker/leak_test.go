package broker_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// TestTokenEndpointFromSession is SEC-20 and SEC-23: the code goes to the
// token endpoint recorded when the flow started, even if the provider's
// configuration now names another (an attacker's) endpoint.
func TestTokenEndpointFromSession(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	var hits atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "nope", http.StatusTeapot)
	}))
	defer attacker.Close()

	f := e.begin(ctx, broker.LinkRequest{})
	q := e.consent(ctx, f, true)
	swapped := e.provider
	swapped.TokenURL = attacker.URL + "/oauth/token"
	reg, err := provider.NewRegistry(swapped)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := broker.New(broker.Options{Store: e.st, Vault: e.keys, Providers: reg, PublicURL: "http://127.0.0.1:1", Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Callback(ctx, e.integ.ID, q, f.browser); err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("attacker token endpoint got %d requests, want 0", n)
	}
}

// TestCodeNeverResent is SEC-30: when the exchange times out after the
// request was sent, the flow fails and the code is not sent again.
func TestCodeNeverResent(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	b, err := broker.New(broker.Options{
		Store: e.st, Vault: e.keys, Providers: e.reg, PublicURL: "http://127.0.0.1:1", Now: e.clk.Now,
		RefreshTimeout: 200 * time.Millisecond, LeaseTTL: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := e.begin(ctx, broker.LinkRequest{})
	q := e.consent(ctx, f, true)
	if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: "slow", Delay: time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Callback(ctx, e.integ.ID, q, f.browser); broker.CodeOf(err) != broker.CodeUpstreamDown {
		t.Fatalf("Callback = %v, want upstream_unavailable", err)
	}
	if _, err := b.Callback(ctx, e.integ.ID, q, f.browser); broker.CodeOf(err) != broker.CodeInvalidState {
		t.Fatalf("second Callback = %v, want invalid_state", err)
	}
	if n := e.settledTokenRequests("authorization_code", 1); n != 1 {
		t.Errorf("code exchanges = %d, want 1", n)
	}
	if cs := e.connections(); len(cs) != 0 {
		t.Errorf("stored %d connections, want 0", len(cs))
	}
}

// TestNoSecretAtRestOrInLogs is SEC-60, SEC-61 and ENC-01 (and ENC-07: the
// same on both backends): after connect, refreshes and a token read, no
// token, refresh token or client secret appears in the SQLite files (WAL
// included), in a pg_dump of the PostgreSQL schema, or in the debug logs,
// in any common encoding.
func TestNoSecretAtRestOrInLogs(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { noSecretAtRest(t, newEnv(t), sqliteFiles) })
	t.Run("postgres", func(t *testing.T) { noSecretAtRest(t, newEnv(t, withPostgres()), pgDump) })
}

// sqliteFiles returns the bytes of the database file and its -wal/-shm.
func sqliteFiles(t *testing.T, dsn string) []byte {
	t.Helper()
	files, _ := filepath.Glob(dsn + "*")
	if len(files) == 0 {
		t.Fatalf("no database files at %s", dsn)
	}
	var disk []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		disk = append(disk, b...)
	}
	return disk
}

// pgDump dumps the test's schema (named by the DSN's search_path) with
// pg_dump, data included.
func pgDump(t *testing.T, dsn string) []byte {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	out, err := exec.CommandContext(t.Context(), "pg_dump", "--schema="+schema, "--inserts", u.String()).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(out, []byte("CREATE TABLE")) {
		t.Fatalf("pg_dump of schema %s has no tables", schema)
	}
	return out
}

func noSecretAtRest(t *testing.T, e *env, dump func(*testing.T, string) []byte) {
	var logs bytes.Buffer
	ctx := t.Context()
	b, err := broker.New(broker.Options{
		Store: e.st, Vault: e.keys, Providers: e.reg, PublicURL: "http://127.0.0.1:1", Now: e.clk.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	f := e.begin(ctx, broker.LinkRequest{})
	q := e.consent(ctx, f, true)
	got, err := b.Callback(ctx, e.integ.ID, q, f.browser)
	if err != nil {
		t.Fatal(err)
	}
	id := got.Connection.ID
	var secrets []string
	collect := func() {
		c, err := e.st.GetConnection(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, fld := range []struct {
			name string
			ct   store.Sealed
		}{{"access_token", c.AccessToken}, {"refresh_token", c.RefreshToken}, {"id_token", c.IDToken}} {
			pt, err := e.keys.Open(fld.ct, vault.AAD("connection", id, fld.name))
			if err != nil {
				t.Fatalf("ENC-01 open %s: %v", fld.name, err)
			}
			secrets = append(secrets, string(pt))
		}
	}
	collect()
	for range 3 {
		if _, err := b.Refresh(ctx, id, ""); err != nil {
			t.Fatal(err)
		}
		collect()
	}
	secrets = append(secrets, secret, q.Get("code"))
	// A failing refresh logs provider errors; they must not echo secrets.
	if err := e.sb.AddFault(sandbox.Fault{Provider: "pax8", Endpoint: "token", Kind: "invalid_grant", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	b.Refresh(ctx, id, "")

	disk := dump(t, e.dsn)
	for _, s := range secrets {
		if len(s) < 16 {
			t.Fatalf("canary %q too short to scan for", s)
		}
		for _, enc := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)), hex.EncodeToString([]byte(s)), url.QueryEscape(s)} {
			probe := enc[:min(len(enc), 40)]
			if bytes.Contains(disk, []byte(probe)) {
				t.Errorf("SEC-60: a secret (prefix %.6s…) is in the stored data", s)
			}
			if bytes.Contains(logs.Bytes(), []byte(probe)) {
				t.Errorf("SEC-61: a secret (prefix %.6s…) is in the logs", s)
			}
		}
	}
}

// TestCiphertextSwap is SEC-63 and ENC-04: a ciphertext copied from one
// connection's row into another's does not open.
func TestCiphertextSwap(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.connect(ctx)
	other := e.addIntegration("int_b", "")
	f := e.begin(ctx, broker.LinkRequest{IntegrationID: other.ID})
	got, err := e.b.Callback(ctx, other.ID, e.consent(ctx, f, true), f.browser)
	if err != nil {
		t.Fatal(err)
	}
	b := got.Connection
	if _, err := e.st.UpdateConnection(ctx, b.ID, func(c store.Connection) (store.Connection, error) {
		c.AccessToken = a.AccessToken
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Token(ctx, b.ID); broker.CodeOf(err) != broker.CodeInternal {
		t.Errorf("Token with a swapped ciphertext = %v, want internal", err)
	}
	if tok, err := e.b.Token(ctx, a.ID); err != nil || tok.AccessToken == "" {
		t.Errorf("Token of the untouched connection = %v", err)
	}
}

// TestRefreshKeepsTokensWhenJWKSDown: a refresh whose id_token signature
// cannot be checked because the JWKS endpoint is unreachable still stores
// the rotated grant, so the refresh token the provider just rotated is not
// lost; identity claims are still compared (OIDC-15 has its own test).
func TestRefreshKeepsTokensWhenJWKSDown(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	down := e.provider
	down.JWKSURL = dead.URL + "/.well-known/jwks.json"
	reg, err := provider.NewRegistry(down)
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Options{Store: e.st, Vault: e.keys, Providers: reg, PublicURL: "http://127.0.0.1:1", Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Refresh(ctx, c.ID, ""); err != nil {
		t.Fatalf("Refresh with JWKS down = %v, want the rotated grant stored", err)
	}
	got, _ := e.st.GetConnection(ctx, c.ID)
	if got.Version != c.Version+1 {
		t.Errorf("version %d, want %d", got.Version, c.Version+1)
	}
	if _, err := e.b.Refresh(ctx, c.ID, ""); err != nil {
		t.Errorf("next refresh = %v (the stored refresh token must be the newest)", err)
	}
	if n := e.sb.Stats().Providers["pax8"].RefreshReuseDetected; n != 0 {
		t.Errorf("reuse detected = %d, want 0", n)
	}
}
