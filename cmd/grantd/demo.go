package main

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

	"github.com/grantd/grantd/internal/app"
	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/tenant"
	"github.com/grantd/grantd/internal/vault"
)

// demoIntegrationID is the id of the demo's operator integration, and so
// the last segment of its callback path.
const demoIntegrationID = "pax8"

// demoOptions are the demo's flags.
type demoOptions struct {
	headless      bool
	asJSON        bool
	listen        string
	sandboxListen string
	dir           string
	verbose       bool
	// accessLog turns on server.access_log and info logging (load
	// commands measuring its cost).
	accessLog bool
	// progress, when set, receives one line per start-up step (the demo
	// command sets it to stderr; the load commands leave it nil).
	progress io.Writer
}

// step prints one start-up step to o.progress.
func (o demoOptions) step(format string, args ...any) {
	if o.progress != nil {
		fmt.Fprintf(o.progress, "grantd demo: "+format+"\n", args...)
	}
}

func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo")
	var o demoOptions
	fs.BoolVar(&o.headless, "headless", false, "run the Pax8 flow as a scripted partner, print what happened and exit")
	fs.BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "grantd listen address (loopback)")
	fs.StringVar(&o.sandboxListen, "sandbox-listen", "127.0.0.1:0", "sandbox listen address (loopback)")
	fs.StringVar(&o.dir, "dir", "", "directory for the database and the vault key (default: a temporary directory, removed on exit)")
	fs.BoolVar(&o.verbose, "v", false, "log at info level instead of warn")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	o.progress = e.stderr
	d, err := startDemo(ctx, e, o)
	if err != nil {
		return err
	}
	defer d.close()
	if o.headless {
		r, err := d.runHeadless(ctx)
		if o.asJSON {
			if jerr := writeJSON(e.stdout, r); jerr != nil {
				return jerr
			}
		} else {
			r.print(e.stdout)
		}
		return err
	}
	d.printInstructions(e, o.asJSON)
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "\ngrantd demo: stopping")
	return nil
}

// demo is a running sandbox plus a running grantd pointed at it, with one
// tenant. close stops both.
type demo struct {
	sandbox    *sandbox.Server
	sandboxURL string
	app        *app.App
	publicURL  string
	dir        string
	tenantID   string
	tenantName string
	apiKey     string
	partner    sandbox.Account
	link       connectSession

	cancel context.CancelFunc
	wg     sync.WaitGroup
	errMu  sync.Mutex
	errs   []error
	tmpDir string
}

// startDemo starts the sandbox and grantd on loopback and creates the
// demo tenant and a connect link for it.
func startDemo(ctx context.Context, e *env, o demoOptions) (_ *demo, err error) {
	d := &demo{}
	ctx, d.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	level := slog.LevelWarn
	if o.verbose || o.accessLog {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	if d.dir = o.dir; d.dir == "" {
		if d.tmpDir, err = os.MkdirTemp("", "grantd-demo-"); err != nil {
			return nil, fmt.Errorf("demo directory: %w", err)
		}
		d.dir = d.tmpDir
	} else if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo directory: %w", err)
	}

	o.step("using directory %s", d.dir)
	// The sandbox: Pax8's documented behaviour, on loopback.
	o.step("starting the sandbox (Pax8, Paxful and Daxko emulators)")
	sbLn, err := listenLoopback(ctx, o.sandboxListen)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	d.sandbox, err = sandbox.New(sandbox.Options{Logger: logger.With("component", "sandbox")})
	if err != nil {
		sbLn.Close()
		return nil, err
	}
	d.sandboxURL = "http://" + sbLn.Addr().String()
	d.sandbox.SetBaseURL(d.sandboxURL)
	d.serve(ctx, "sandbox", sbLn, d.sandbox.Handler())
	o.step("sandbox listening on %s", d.sandboxURL)

	// grantd's listener first: its address is the public URL the
	// integration's redirect URI derives from.
	ln, err := listenLoopback(ctx, o.listen)
	if err != nil {
		return nil, fmt.Errorf("grantd: %w", err)
	}
	d.publicURL = "http://" + ln.Addr().String()
	cfg, err := d.config(ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, err
	}
	cfg.Server.AccessLog = o.accessLog
	in := cfg.Integrations[0]
	d.sandbox.RegisterClient(sandbox.Pax8, sandbox.Client{
		ID:           in.ClientID,
		Secret:       in.ClientSecret.Reveal(),
		RedirectURIs: []string{in.RedirectURI},
		Name:         "grantd demo",
	})
	o.step("opening the database and migrating it")
	if d.app, err = app.Build(ctx, cfg, nil, logger); err != nil {
		ln.Close()
		return nil, err
	}
	d.wg.Go(func() {
		if err := d.app.Serve(ctx, ln); err != nil {
			d.fail(err)
		}
	})

	o.step("grantd listening on %s", d.publicURL)
	o.step("creating the demo tenant, its API key and a connect link")
	t, key, err := tenant.Create(ctx, d.app.Store(), "Demo MSP", time.Now())
	if err != nil {
		return nil, err
	}
	d.tenantID, d.tenantName, d.apiKey = t.ID, t.Name, key
	for _, acc := range sandbox.Accounts() {
		if acc.Kind == sandbox.KindPartner {
			d.partner = acc
			break
		}
	}
	c, err := newAPIClient(d.publicURL, d.apiKey)
	if err != nil {
		return nil, err
	}
	if d.link, err = c.createSession(ctx, "", demoIntegrationID, ""); err != nil {
		return nil, fmt.Errorf("create connect link: %w", err)
	}
	o.step("ready")
	return d, nil
}

// config returns grantd's configuration for the demo: dev mode on
// loopback, SQLite in the demo directory, the demo's vault key, and pax8
// extended to point at the sandbox.
func (d *demo) config(listen string) (*config.Config, error) {
	const description = "The Pax8 sandbox built into grantd, standing in for login.pax8.com and api.pax8.com."
	pax8 := sandbox.ProviderYAML(sandbox.Pax8, d.sandbox.Endpoints(sandbox.Pax8), "description: "+strconv.Quote(description))
	yaml := fmt.Sprintf(`dev: true
providers:
  - %s
integrations:
  - id: %s
    provider: pax8
    name: Pax8 (sandbox)
    client_id: grantd-demo
`, pax8, demoIntegrationID)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	cfg.Listen = listen
	cfg.PublicURL = d.publicURL
	cfg.Database = filepath.Join(d.dir, "grantd.db")
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
func (d *demo) vaultKey() (vault.Key, error) {
	path := filepath.Join(d.dir, "vault.key")
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
func (d *demo) serve(ctx context.Context, name string, ln net.Listener, h http.Handler) {
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

func (d *demo) fail(err error) {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	d.errs = append(d.errs, err)
}

// close stops the servers, closes the store and removes a temporary
// directory.
func (d *demo) close() {
	d.cancel()
	d.wg.Wait()
	if d.app != nil {
		d.app.Close()
	}
	if d.tmpDir != "" {
		os.RemoveAll(d.tmpDir)
	}
}

// listenLoopback listens on addr, which must be a loopback address: the
// demo runs in dev mode, whose http URLs are accepted on loopback only.
func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usagef("listen address %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, usagef("listen address %q is not loopback; the demo serves plain http on loopback only", addr)
	}
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}

// printInstructions tells the user how to try the running demo.
func (d *demo) printInstructions(e *env, asJSON bool) {
	if asJSON {
		writeJSON(e.stdout, map[string]any{
			"grantd_url":       d.publicURL,
			"sandbox_url":      d.sandboxURL,
			"connect_url":      d.link.URL,
			"tenant_id":        d.tenantID,
			"api_key":          d.apiKey,
			"partner_username": d.partner.Username,
			"partner_password": d.partner.Password,
			"directory":        d.dir,
		})
		return
	}
	w := e.stdout
	fmt.Fprintf(w, "grantd demo is running (Ctrl-C to stop)\n\n")
	fmt.Fprintf(w, "  grantd    %s\n  sandbox   %s (Pax8 issuer %s)\n  data      %s\n\n", d.publicURL, d.sandboxURL, d.sandbox.Issuer(sandbox.Pax8), d.dir)
	fmt.Fprintf(w, "1. Open the connect page and press \"Integrate with Pax8\":\n\n     %s\n\n", d.link.URL)
	fmt.Fprintf(w, "2. Log in to the Pax8 sandbox as a partner and allow access:\n\n     username  %s\n     password  %s\n\n", d.partner.Username, d.partner.Password)
	fmt.Fprintf(w, "3. Use the connection as tenant %q. Its API key is shown only now:\n\n     export GRANTD_URL=%s\n     export GRANTD_API_KEY=%s\n\n", d.tenantName, d.publicURL, d.apiKey)
	fmt.Fprintf(w, "     curl -s -H \"Authorization: Bearer $GRANTD_API_KEY\" $GRANTD_URL/v1/connections\n")
	fmt.Fprintf(w, "     curl -s -H \"Authorization: Bearer $GRANTD_API_KEY\" $GRANTD_URL/v1/connections/<id>/token\n")
	fmt.Fprintf(w, "     go run ./cmd/grantd connections\n\n")
	fmt.Fprintf(w, "   or create another link and wait for it: go run ./cmd/grantd connect --provider pax8\n")
	if d.tmpDir != "" {
		fmt.Fprintf(w, "\nEverything is removed on exit; pass --dir to keep the database.\n")
	}
}
