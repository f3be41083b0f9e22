package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/app"
	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/tenant"
	"github.com/grantd/grantd/internal/vault"
)

// IntegrationID is the id of the demo's operator integration, and so
// the last segment of its callback path.
const IntegrationID = "pax8"

// Options configures [Start].
type Options struct {
	// Listen is grantd's listen address (loopback).
	Listen string
	// SandboxListen is the sandbox's listen address (loopback).
	SandboxListen string
	// Dir holds the database and the vault key; empty, a temporary
	// directory removed by Close.
	Dir string
	// Verbose logs at info level instead of warn.
	Verbose bool
	// Logs receives the logs of grantd and the sandbox; nil discards them.
	Logs io.Writer
	// AccessLog turns on server.access_log and info logging (load
	// commands measuring its cost).
	AccessLog bool
	// ReturnToAllow is grantd's return_to_allow: the URL prefixes a
	// connect session may send the user back to (an application under
	// test on loopback, say).
	ReturnToAllow []string
	// Progress, when set, receives one line per start-up step, so that a
	// first run (which compiles for a while) says what it is doing.
	Progress io.Writer
}

// step prints one start-up step to o.Progress.
func (o Options) step(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "grantd demo: "+format+"\n", args...)
	}
}

// Demo is a running sandbox plus a running grantd pointed at it, with one
// tenant. Close stops both. Its exported fields are set by [Start] and
// must not be changed.
type Demo struct {
	Sandbox    *sandbox.Server
	SandboxURL string
	App        *app.App
	PublicURL  string
	Dir        string
	TenantID   string
	TenantName string
	APIKey     string
	Partner    sandbox.Account
	Link       grantd.ConnectSession

	cancel context.CancelFunc
	wg     sync.WaitGroup
	errMu  sync.Mutex
	errs   []error
	tmpDir string
}

// Start starts the sandbox and grantd on loopback and creates the
// demo tenant and a connect link for it.
func Start(ctx context.Context, o Options) (_ *Demo, err error) {
	d := &Demo{}
	ctx, d.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	level := slog.LevelWarn
	if o.Verbose || o.AccessLog {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(o.logs(), &slog.HandlerOptions{Level: level}))

	if d.Dir = o.Dir; d.Dir == "" {
		if d.tmpDir, err = os.MkdirTemp("", "grantd-demo-"); err != nil {
			return nil, fmt.Errorf("demo directory: %w", err)
		}
		d.Dir = d.tmpDir
	} else if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo directory: %w", err)
	}
	o.step("using directory %s", d.Dir)
	o.step("starting the sandbox (Pax8, Paxful and Daxko emulators)")

	// The sandbox: Pax8's documented behaviour, on loopback.
	sbLn, err := listenLoopback(ctx, o.SandboxListen)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	d.Sandbox, err = sandbox.New(sandbox.Options{Logger: logger.With("component", "sandbox")})
	if err != nil {
		sbLn.Close()
		return nil, err
	}
	d.SandboxURL = "http://" + sbLn.Addr().String()
	d.Sandbox.SetBaseURL(d.SandboxURL)
	d.serve(ctx, "sandbox", sbLn, d.Sandbox.Handler())
	o.step("sandbox listening on %s", d.SandboxURL)

	// grantd's listener first: its address is the public URL the
	// integration's redirect URI derives from.
	ln, err := listenLoopback(ctx, o.Listen)
	if err != nil {
		return nil, fmt.Errorf("grantd: %w", err)
	}
	d.PublicURL = "http://" + ln.Addr().String()
	cfg, err := d.config(ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, err
	}
	cfg.Server.AccessLog = o.AccessLog
	cfg.ReturnToAllow = o.ReturnToAllow
	in := cfg.Integrations[0]
	d.Sandbox.RegisterClient(sandbox.Pax8, sandbox.Client{
		ID:           in.ClientID,
		Secret:       in.ClientSecret.Reveal(),
		RedirectURIs: []string{in.RedirectURI},
		Name:         "grantd demo",
	})
	o.step("opening the database and migrating it")
	if d.App, err = app.Build(ctx, cfg, nil, logger); err != nil {
		ln.Close()
		return nil, err
	}
	d.wg.Go(func() {
		if err := d.App.Serve(ctx, ln); err != nil {
			d.fail(err)
		}
	})

	o.step("grantd listening on %s", d.PublicURL)
	o.step("creating the demo tenant, its API key and a connect link")
	t, key, err := tenant.Create(ctx, d.App.Store(), "Demo MSP", time.Now())
	if err != nil {
		return nil, err
	}
	d.TenantID, d.TenantName, d.APIKey = t.ID, t.Name, key
	for _, acc := range sandbox.Accounts() {
		if acc.Kind == sandbox.KindPartner {
			d.Partner = acc
			break
		}
	}
	c, err := grantd.NewClient(d.PublicURL, d.APIKey)
	if err != nil {
		return nil, err
	}
	if d.Link, err = c.CreateConnectSession(ctx, grantd.ConnectSessionRequest{IntegrationID: IntegrationID}); err != nil {
		return nil, fmt.Errorf("create connect link: %w", err)
	}
	o.step("ready")
	return d, nil
}

// config returns grantd's configuration for the demo: dev mode on
// loopback, SQLite in the demo directory, the demo's vault key, and pax8
// extended to point at the sandbox.
func (d *Demo) config(listen string) (*config.Config, error) {
	const description = "The Pax8 sandbox built into grantd, standing in for login.pax8.com and api.pax8.com."
	pax8 := sandbox.ProviderYAML(sandbox.Pax8, d.Sandbox.Endpoints(sandbox.Pax8), "description: "+strconv.Quote(description))
	yaml := fmt.Sprintf(`dev: true
providers:
  - %s
integrations:
  - id: %s
    provider: pax8
    name: Pax8 (sandbox)
    client_id: grantd-demo
`, pax8, IntegrationID)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	cfg.Listen = listen
	cfg.PublicURL = d.PublicURL
	cfg.Database = filepath.Join(d.Dir, "grantd.db")
	key, err := d.vaultKey()
	if err != nil {
		return nil, err
	}
	cfg.Vault.Keys = []vault.Key{key}
	cfg.AdminKey = config.Secret("gda_" + rand.Text())
	cfg.Integrations[0].ClientSecret = config.Secret(rand.Text() + rand.Text())
	cfg.ApplyDefaults()
	return cfg, nil
}

// vaultKey reads the demo's vault key from its directory, generating it on
// first use, so that a demo run with --dir can be restarted.
func (d *Demo) vaultKey() (vault.Key, error) {
	path := filepath.Join(d.Dir, "vault.key")
	b, err := os.ReadFile(path)
	if err == nil {
		keys, err := vault.ParseKeys(string(b))
		if err != nil {
			return vault.Key{}, fmt.Errorf("demo vault key %s: %w", path, err)
		}
		return keys[0], nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return vault.Key{}, fmt.Errorf("demo vault key: %w", err)
	}
	k, err := vault.GenerateKey(1)
	if err != nil {
		return vault.Key{}, err
	}
	if err := os.WriteFile(path, []byte(k.Encode()+"\n"), 0o600); err != nil {
		return vault.Key{}, fmt.Errorf("demo vault key: %w", err)
	}
	return k, nil
}

// serve runs an HTTP server on ln until ctx is done.
func (d *Demo) serve(ctx context.Context, name string, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	d.wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			d.fail(fmt.Errorf("%s: %w", name, err))
		}
	})
	d.wg.Go(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
}

func (d *Demo) fail(err error) {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	d.errs = append(d.errs, err)
}

// Close stops the servers, closes the store and removes a temporary
// directory.
func (d *Demo) Close() {
	d.cancel()
	d.wg.Wait()
	if d.App != nil {
		d.App.Close()
	}
	if d.tmpDir != "" {
		os.RemoveAll(d.tmpDir)
	}
}

// listenLoopback listens on addr, which must be a loopback address: the
// demo runs in dev mode, whose http URLs are accepted on loopback only.
func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	if err := CheckListen(addr); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}

func (o Options) logs() io.Writer {
	if o.Logs == nil {
		return io.Discard
	}
	return o.Logs
}

// CheckListen reports whether addr is a loopback address [Start] may
// listen on.
func CheckListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("listen address %q is not loopback; the demo serves plain http on loopback only", addr)
	}
	return nil
}
