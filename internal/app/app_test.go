package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
	"github.com/grantd/grantd/internal/vault"
)

// testEnv is a sandbox and the settings of one grantd database.
type testEnv struct {
	endpoints sandbox.Endpoints
	database  string
	key       vault.Key
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	_, ep := sandboxtest.Start(t, sandbox.Options{})
	k, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{endpoints: ep, database: filepath.Join(t.TempDir(), "grantd.db"), key: k}
}

// config returns a dev config pointing pax8 at the sandbox with one
// operator integration whose client secret is secret.
func (te *testEnv) config(t *testing.T, clientID, secret string, keys ...vault.Key) *config.Config {
	t.Helper()
	ep := te.endpoints
	cfg, err := config.Parse(fmt.Appendf(nil, `dev: true
providers:
  - %s
integrations:
  - id: pax8-main
    provider: pax8
    client_id: %s
`, sandbox.ProviderYAML(sandbox.Pax8, ep), clientID))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	cfg.Database = te.database
	cfg.PublicURL = "http://127.0.0.1:8080"
	if len(keys) == 0 {
		keys = []vault.Key{te.key}
	}
	cfg.Vault.Keys = keys
	cfg.AdminKey = "admin-key-for-tests-0123456789abcdef"
	cfg.Integrations[0].ClientSecret = config.Secret(secret)
	cfg.ApplyDefaults()
	return cfg
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestBuildServesHealthAndMetrics(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	for _, tc := range []struct {
		path, want string
	}{
		{"/healthz", `{"status":"ok"}`},
		{"/metrics", "go_goroutines"},
		{"/v1/providers", "unauthorized"},              // the API is mounted and checks keys
		{"/v1/proxy/conn_x/companies", "unauthorized"}, // so is the proxy
		{"/v1/organizations", "unauthorized"},          // and the organisation mappings
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s = %d %q, want it to contain %q", tc.path, resp.StatusCode, b, tc.want)
		}
	}

	// SEC-40: the proxy sees paths before any mux cleans them, so a dot
	// segment is refused rather than redirected to another route.
	_, key, err := tenant.Create(t.Context(), a.Store(), "Acme", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1/proxy/conn_x/a/../../../tenants", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /v1/proxy/conn_x/a/../../../tenants = %d, want 400 from the proxy", resp.StatusCode)
	}

	p, ok := a.Providers().Get("pax8")
	if !ok || p.Issuer != te.endpoints.Issuer {
		t.Errorf("provider pax8 issuer = %q, want the sandbox's %q", p.Issuer, te.endpoints.Issuer)
	}
}

// TestBuildSyncsIntegrations checks that operator integrations from the
// config land in the store with defaults applied and the client secret
// sealed to its row (ENC-01), and that a second start updates them in
// place.
func TestBuildSyncsIntegrations(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	got, err := a.Store().GetIntegration(t.Context(), "pax8-main")
	if err != nil {
		t.Fatalf("GetIntegration: %v", err)
	}
	want := store.Integration{
		ID:          "pax8-main",
		Provider:    "pax8",
		Name:        "Pax8",
		ClientID:    "client-1",
		RedirectURI: "http://127.0.0.1:8080/oauth/callback/pax8-main",
		Scopes:      []string{"Manage:Pax8Data", "openid", "profile", "email", "offline_access"},
		Audience:    "https://api.pax8.com",
		IsDefault:   true,
	}
	first := got
	created := got.CreatedAt
	// The sealed secret and the times are checked below.
	got.ClientSecret, got.CreatedAt, got.UpdatedAt = nil, time.Time{}, time.Time{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("integration after first start (-want +got):\n%s", diff)
	}
	if strings.Contains(string(first.ClientSecret), "secret-1") {
		t.Error("client secret is stored in the clear")
	}
	if pt, err := a.Vault().Open(first.ClientSecret, "integration:pax8-main:client_secret"); err != nil || string(pt) != "secret-1" {
		t.Errorf("Open(client secret) = %q, %v; want secret-1", pt, err)
	}
	if _, err := a.Vault().Open(first.ClientSecret, "integration:other:client_secret"); err == nil {
		t.Error("client secret opens under another row's AAD (ENC-04)")
	}
	a.Close()

	a, err = Build(t.Context(), te.config(t, "client-2", "secret-2"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("second Build: %v", err)
	}
	defer a.Close()
	second, err := a.Store().GetIntegration(t.Context(), "pax8-main")
	if err != nil {
		t.Fatalf("GetIntegration: %v", err)
	}
	if second.ClientID != "client-2" || !second.CreatedAt.Equal(created) {
		t.Errorf("after second start: client id %q created %v; want client-2 created %v", second.ClientID, second.CreatedAt, created)
	}
	if pt, err := a.Vault().Open(second.ClientSecret, "integration:pax8-main:client_secret"); err != nil || string(pt) != "secret-2" {
		t.Errorf("Open(client secret) = %q, %v; want secret-2", pt, err)
	}
	all, err := a.Store().ListIntegrations(t.Context(), "")
	if err != nil || len(all) != 1 {
		t.Errorf("ListIntegrations = %d integrations, %v; want 1", len(all), err)
	}
}

// TestBuildRefusesWrongVaultKey is ENC-06: a second start with another key
// under the same id, or without the recorded primary key, fails with an
// error naming the key, and leaves the stored fingerprint and data alone.
func TestBuildRefusesWrongVaultKey(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	fp, err := a.Store().GetMeta(t.Context(), MetaVaultFingerprint)
	if err != nil || fp != a.Vault().Fingerprint() {
		t.Fatalf("stored fingerprint = %q, %v; want the keyring's", fp, err)
	}
	sealed, _ := a.Store().GetIntegration(t.Context(), "pax8-main")
	a.Close()

	other, _ := vault.GenerateKey(1)
	key2, _ := vault.GenerateKey(2)
	for _, tc := range []struct {
		name string
		keys []vault.Key
		want string
	}{
		{"same id, other secret", []vault.Key{other}, "key 1 is not the key"},
		{"primary missing", []vault.Key{key2}, "key 1, the primary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Build(t.Context(), te.config(t, "client-1", "secret-1", tc.keys...), nil, testLogger(t))
			if err == nil {
				a.Close()
				t.Fatal("Build with a wrong vault key succeeded")
			}
			if !errors.Is(err, vault.ErrWrongKey) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "refusing to start") {
				t.Errorf("Build error = %v; want ErrWrongKey mentioning %q", err, tc.want)
			}
			// The hint says how to rotate (keep the old keys), since an
			// operator who swapped keys to rotate lands here.
			if !strings.Contains(err.Error(), "keep the old ones") {
				t.Errorf("Build error = %v; want a hint to keep the old keys when rotating", err)
			}
		})
	}

	// The right key still works, and nothing was overwritten.
	a, err = Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build with the right key after refusals: %v", err)
	}
	defer a.Close()
	if got, _ := a.Store().GetMeta(t.Context(), MetaVaultFingerprint); got != fp {
		t.Errorf("fingerprint changed to %q, want %q", got, fp)
	}
	if _, err := a.Vault().Open(sealed.ClientSecret, "integration:pax8-main:client_secret"); err != nil {
		t.Errorf("secret sealed before the refusals no longer opens: %v", err)
	}
}

// TestBuildRecordsAddedKey is ENC-05/06 at boot: adding a key is accepted and
// recorded, so that later dropping the old primary is caught.
func TestBuildRecordsAddedKey(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	a.Close()
	key2, _ := vault.GenerateKey(2)
	a, err = Build(t.Context(), te.config(t, "client-1", "secret-1", te.key, key2), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build with an added key: %v", err)
	}
	got, _ := a.Store().GetMeta(t.Context(), MetaVaultFingerprint)
	if want := a.Vault().Fingerprint(); got != want {
		t.Errorf("fingerprint after adding key 2 = %q, want %q", got, want)
	}
	a.Close()
	// Key 2 is now the recorded primary: a start without it must fail.
	if a, err := Build(t.Context(), te.config(t, "client-1", "secret-1", te.key), nil, testLogger(t)); err == nil {
		a.Close()
		t.Error("Build without the recorded primary key 2 succeeded")
	}
}

// TestBuildProbesDataWithoutFingerprint is ENC-06 for a database whose
// fingerprint row is missing: the sealed data itself is checked.
func TestBuildProbesDataWithoutFingerprint(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if err := a.Store().PutMeta(t.Context(), MetaVaultFingerprint, ""); err != nil {
		t.Fatal(err)
	}
	a.Close()
	other, _ := vault.GenerateKey(1)
	a, err = Build(t.Context(), te.config(t, "client-1", "secret-1", other), nil, testLogger(t))
	if err == nil {
		a.Close()
		t.Fatal("Build with a wrong key over sealed data succeeded")
	}
	if !strings.Contains(err.Error(), "cannot open data already in this database") {
		t.Errorf("Build error = %v; want it to say the keys cannot open the data", err)
	}
}

func TestBuildRejectsInvalidConfig(t *testing.T) {
	te := newTestEnv(t)
	cfg := te.config(t, "client-1", "secret-1")
	cfg.Dev = false // the sandbox is http on loopback: only dev mode allows it (SEC-52)
	a, err := Build(t.Context(), cfg, nil, testLogger(t))
	if err == nil {
		a.Close()
		t.Fatal("Build accepted http provider URLs outside dev mode")
	}
	if !strings.Contains(err.Error(), "invalid config") {
		t.Errorf("Build error = %v; want an invalid config error", err)
	}
}

func TestServeShutsDownOnCancel(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(ShutdownTimeout + 5*time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}
