package crash

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/load/fleet"
	"github.com/grantd/grantd/internal/partner"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/vault"
)

// crashRig is one world of a run: a sandbox, a database, replica B and
// the successive replicas A. Worlds share nothing, so that they can run
// trials side by side and each trial's sandbox counters are its own.
type crashRig struct {
	bin, dir  string
	dsn       string
	sb        *sandbox.Server
	sbURL     string
	ep        sandbox.Endpoints
	sent      *refreshLog
	keys      *vault.Keyring
	secrets   []string
	adminKey  string
	tenantKey string // the key of the tenant connect made last
	bAddr     string
	aAddr     string
	redirect  string
	b         *replica
	leeway    time.Duration
	st        store.Store
	hc        *http.Client
	tenants   int
	procs     *procSet
}

// procSet is every replica process running, so that all are killed when
// the run ends, however it ends. It is safe for concurrent use.
type procSet struct {
	mu   sync.Mutex
	kids map[*replica]bool
}

func (ps *procSet) killAll() {
	ps.mu.Lock()
	kids := make([]*replica, 0, len(ps.kids))
	for p := range ps.kids {
		kids = append(kids, p)
	}
	ps.mu.Unlock()
	for _, p := range kids {
		p.kill()
	}
}

func newCrashRig(ctx context.Context, bin, dir, dsn string, procs *procSet, addr func() (string, error)) (*crashRig, error) {
	r := &crashRig{bin: bin, dir: dir, dsn: dsn, procs: procs, hc: &http.Client{Timeout: 30 * time.Second}}
	var err error
	r.sb, err = sandbox.New(sandbox.Options{Pax8: crashSettings(0)})
	if err != nil {
		return nil, err
	}
	// The endpoints' paths do not depend on the base URL, which is known
	// only once the sandbox listens.
	tokenPath, err := urlPath(r.sb.Endpoints(sandbox.Pax8).TokenURL)
	if err != nil {
		return nil, err
	}
	r.sent = &refreshLog{tokenPath: tokenPath, byToken: map[string][]time.Time{}, waiters: map[string]chan struct{}{}}
	if r.sbURL, err = fleet.ServeOn(ctx, r.sent.wrap(r.sb.Handler())); err != nil {
		return nil, err
	}
	r.sb.SetBaseURL(r.sbURL)
	r.ep = r.sb.Endpoints(sandbox.Pax8)

	key, err := vault.GenerateKey(1)
	if err != nil {
		return nil, err
	}
	if r.keys, err = vault.New([]vault.Key{key}, key.ID); err != nil {
		return nil, err
	}
	r.adminKey = "gda_" + rand.Text()
	secret := rand.Text() + rand.Text()
	r.secrets = []string{"GRANTD_VAULT_KEYS=" + key.Encode(), "GRANTD_ADMIN_KEY=" + r.adminKey, "GRANTD_CRASH_CLIENT_SECRET=" + secret}
	if r.bAddr, err = addr(); err != nil {
		return nil, err
	}
	if r.aAddr, err = addr(); err != nil {
		return nil, err
	}
	r.redirect = "http://" + r.bAddr + "/oauth/callback/pax8"
	r.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: "grantd-crash", Secret: secret, RedirectURIs: []string{r.redirect}})
	return r, nil
}

func urlPath(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	return u.Path, nil
}

// crashSettings is the sandbox strict but for the reuse interval.
func crashSettings(leeway time.Duration) sandbox.Settings {
	return sandbox.Settings{
		Rotation: true, ReuseInterval: leeway,
		AccessTTL: 24 * time.Hour, RefreshAbsolute: 8766 * time.Hour, RefreshIdle: 720 * time.Hour,
	}
}

// config is the YAML of one replica: listen on addr, with the given
// refresh settings, against the sandbox and the shared database.
func (r *crashRig) config(addr, refresh string) string {
	return fleet.Replica{
		Addr: addr, DSN: r.dsn, Refresh: refresh,
		Provider: sandbox.ProviderYAML(sandbox.Pax8, r.ep, fmt.Sprintf("refresh_token: {reuse_interval: %s}", r.leeway)),
		ClientID: "grantd-crash", SecretEnv: "GRANTD_CRASH_CLIENT_SECRET", RedirectURI: r.redirect,
	}.YAML()
}

// replica is one grantd serve process.
type replica struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed once the process has exited and was waited for
}

// startReplica starts grantd serve with cfg and waits until it is healthy.
func (r *crashRig) startReplica(ctx context.Context, name, addr, cfg string, extraEnv ...string) (*replica, error) {
	path := filepath.Join(r.dir, name+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(r.dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, r.bin, "serve", "--config", path)
	cmd.Env = append(append(fleet.ChildEnv(), r.secrets...), extraEnv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start replica %s: %w", name, err)
	}
	p := &replica{name: name, addr: addr, cmd: cmd, log: logPath, done: make(chan struct{})}
	r.procs.mu.Lock()
	r.procs.kids[p] = true
	r.procs.mu.Unlock()
	go func() {
		cmd.Wait()
		r.procs.mu.Lock()
		delete(r.procs.kids, p)
		r.procs.mu.Unlock()
		close(p.done)
	}()
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-hctx.Done():
		}
	}()
	if err := fleet.WaitHealthy(hctx, "http://"+addr); err != nil {
		p.kill()
		return nil, fmt.Errorf("replica %s did not start: %w\n%s", name, err, tail(logPath, 20))
	}
	return p, nil
}

// stop asks the replica to shut down, and kills it if it has not within
// 5 s.
func (p *replica) stop() {
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

func (p *replica) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// killedBySIGKILL reports whether the exited replica died of SIGKILL.
func (p *replica) killedBySIGKILL() bool {
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func (r *crashRig) close() {
	if r.b != nil {
		r.b.kill()
	}
	if r.st != nil {
		r.st.Close()
	}
}

// startB (re)starts replica B for leeway, with the sandbox set to match.
func (r *crashRig) startB(ctx context.Context, leeway time.Duration) error {
	r.leeway = leeway
	r.sb.Configure(sandbox.Pax8, crashSettings(leeway))
	b, err := r.startReplica(ctx, "b", r.bAddr, r.config(r.bAddr, crashRefreshB))
	if err != nil {
		return err
	}
	r.b = b
	if r.st == nil {
		if r.st, err = sqlstore.Open(ctx, r.dsn, slog.New(slog.DiscardHandler)); err != nil {
			return err
		}
	}
	return nil
}

func (r *crashRig) stopB() {
	r.b.stop()
	r.b = nil
}

// connect creates a tenant and connects the demo partner for it through
// B, like a browser, and returns the tenant's API client, the connection
// and its refresh token.
func (r *crashRig) connect(ctx context.Context) (*grantd.Client, string, string, error) {
	base := "http://" + r.bAddr
	admin, err := grantd.NewClient(base, r.adminKey)
	if err != nil {
		return nil, "", "", err
	}
	r.tenants++
	_, key, err := admin.CreateTenant(ctx, fmt.Sprintf("Crash MSP %d", r.tenants))
	if err != nil {
		return nil, "", "", fmt.Errorf("create tenant: %w", err)
	}
	r.tenantKey = key
	api, err := grantd.NewClient(base, key)
	if err != nil {
		return nil, "", "", err
	}
	link, err := api.CreateConnectSession(ctx, grantd.ConnectSessionRequest{IntegrationID: "pax8"})
	if err != nil {
		return nil, "", "", err
	}
	if err := partner.Connect(ctx, link.URL, base, partner.Demo(), nil); err != nil {
		return nil, "", "", err
	}
	conns, err := api.Connections(ctx, grantd.ListOptions{})
	if err != nil || len(conns) != 1 {
		return nil, "", "", fmt.Errorf("want one connection after the flow, got %d (%v)", len(conns), err)
	}
	c, err := r.st.GetConnection(ctx, conns[0].ID)
	if err != nil {
		return nil, "", "", err
	}
	rt, err := r.keys.Open(c.RefreshToken, vault.AAD("connection", c.ID, "refresh_token"))
	if err != nil || len(rt) == 0 {
		return nil, "", "", fmt.Errorf("connection %s has no readable refresh token (%v)", c.ID, err)
	}
	return api, c.ID, string(rt), nil
}

// onReplica is the tenant's API client aimed at replica p.
func (r *crashRig) onReplica(p *replica) *grantd.Client {
	c, err := grantd.NewClient("http://"+p.addr, r.tenantKey)
	if err != nil {
		panic(err) // the address and key were checked by connect
	}
	return c
}

// settle polls the store until the trial's connection is settled or
// crashSettleLimit passes: needs_reauth, or active with no refresh journal
// entry and no live lease.
func (r *crashRig) settle(ctx context.Context, id string) (store.Connection, bool, error) {
	deadline := time.Now().Add(crashSettleLimit)
	for {
		c, err := r.st.GetConnection(ctx, id)
		if err != nil {
			return c, false, fmt.Errorf("read connection %s: %w", id, err)
		}
		now := time.Now()
		switch {
		case c.Status == store.StatusNeedsReauth, c.Status == store.StatusRevoked,
			c.Status == store.StatusActive && c.RefreshAttempt == "" && (c.LeaseOwner == "" || !now.Before(c.LeaseExpiresAt)):
			return c, true, nil
		case now.After(deadline):
			return c, false, nil
		}
		select {
		case <-ctx.Done():
			return c, false, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
