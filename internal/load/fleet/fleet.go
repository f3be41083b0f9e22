package fleet

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/partner"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create a scratch schema
)

// ErrDatabase is returned by [ScratchDatabase] and [CheckDatabase] for a
// value that is neither "sqlite" nor a postgres:// URL.
var ErrDatabase = errors.New("--database must be sqlite or a postgres:// URL")

// CheckDatabase reports whether v is a value [ScratchDatabase] takes.
func CheckDatabase(v string) error {
	if v == "sqlite" || v == "" {
		return nil
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return ErrDatabase
	}
	return nil
}

// ValidAtSandbox proves a token is live: the sandbox's userinfo accepts it.
func ValidAtSandbox(ctx context.Context, hc *http.Client, userinfoURL, token string) error {
	_, err := Fetch(ctx, hc, userinfoURL, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return fmt.Errorf("the token handed out is not valid at the sandbox: %w", err)
	}
	return nil
}

func Sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

// ScratchDatabase returns the DSN the replicas share: a SQLite file in dir,
// or a fresh schema in the given PostgreSQL database (dropped by the
// returned func).
func ScratchDatabase(ctx context.Context, flagValue, dir string) (dsn, label string, drop func(), err error) {
	if flagValue == "sqlite" || flagValue == "" {
		return filepath.Join(dir, "grantd.db"), "SQLite (WAL)", func() {}, nil
	}
	u, err := url.Parse(flagValue)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", nil, ErrDatabase
	}
	db, err := sql.Open("pgx", flagValue)
	if err != nil {
		return "", "", nil, err
	}
	schema := "grantd_load_" + strings.ToLower(rand.Text()[:10])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", "", nil, fmt.Errorf("create scratch schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), "PostgreSQL", func() {
		db.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	}, nil
}

// ServeOn serves h on a fresh loopback port until ctx is done.
func ServeOn(ctx context.Context, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

func FreeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func WaitHealthy(ctx context.Context, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("not healthy after 30 s")
}

// ChildEnv is this process's environment without GRANTD_FAILPOINT, which
// only replica A gets.
func ChildEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRANTD_FAILPOINT=") {
			out = append(out, kv)
		}
	}
	return out
}

// Fetch GETs target and returns its body, which must come with a 200.
func Fetch(ctx context.Context, hc *http.Client, target string, hdr http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header = hdr.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", partner.RedactLink(target), resp.StatusCode)
	}
	return b, nil
}

// Replica is the config of one `grantd serve` replica of a load harness:
// dev mode on loopback, no token cache, keys and admin key from the
// environment, the pax8 provider pointed at the sandbox, and one operator
// integration.
type Replica struct {
	Addr string // listen address, and so the public URL
	DSN  string
	// Refresh is the refresh: section as a YAML flow mapping.
	Refresh string
	// Provider is the providers: entry (see sandbox.ProviderYAML).
	Provider string
	// ClientID, SecretEnv and RedirectURI are the integration's.
	ClientID, SecretEnv, RedirectURI string
}

// YAML returns r's config file.
func (r Replica) YAML() string {
	return fmt.Sprintf(`listen: %s
public_url: http://%s
database: %q
dev: true
log_level: warn
token_cache_ttl: 0s
refresh: %s
vault: {keys_env: GRANTD_VAULT_KEYS}
admin_key_env: GRANTD_ADMIN_KEY
providers:
  - %s
integrations:
  - {id: pax8, provider: pax8, client_id: %s, client_secret_env: %s, redirect_uri: %q}
`, r.Addr, r.Addr, r.DSN, r.Refresh, r.Provider, r.ClientID, r.SecretEnv, r.RedirectURI)
}
