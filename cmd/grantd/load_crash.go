package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/grantd/grantd/internal/failpoint"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/vault"
)

// The refresh settings of the two replicas of `grantd load crash`.
// Replica B settles interrupted refreshes quickly; replica A, the one that
// dies, never sweeps on its own, and in the stall scenario holds a lease
// that outlives its HTTP timeout.
const (
	crashRefreshB     = "{interval: 200ms, timeout: 1s, lease_ttl: 2s}"
	crashRefreshA     = "{interval: 1h, timeout: 1s, lease_ttl: 2s}"
	crashRefreshStall = "{interval: 1h, timeout: 1s, lease_ttl: 10s}"
	crashLeaseA       = 2 * time.Second
	crashLeaseStall   = 10 * time.Second
	crashTimeoutA     = time.Second
	// crashSettleLimit bounds the wait for a trial to settle.
	crashSettleLimit = 15 * time.Second
)

// crashReport is the outcome of `grantd load crash` (RT-04 and RT-09 of
// the security checklist).
type crashReport struct {
	Database        string       `json:"database"`
	Mode            string       `json:"mode"` // "failpoint" or "stall"
	Stall           string       `json:"stall,omitempty"`
	TrialsPerCase   int          `json:"trials_per_case"`
	Parallel        int          `json:"parallel"`
	Cases           []*crashCase `json:"cases"`
	Trials          int          `json:"trials"`
	Corrupt         int          `json:"corrupt"`
	ReuseDetected   int          `json:"reuse_detected"`
	FamiliesRevoked int          `json:"families_revoked"`
	Failed          int          `json:"failed_cases"`
	Elapsed         string       `json:"elapsed"`
}

// crashCase is one (point, leeway) pair: every trial kills (or stalls)
// replica A at the same point with the same provider reuse interval.
type crashCase struct {
	Point  string `json:"point"` // a failpoint, or "stall"
	Leeway string `json:"leeway"`
	// Want is the outcome every trial must have: "recovered", "flagged",
	// or "recovered or flagged" where either is right.
	Want            string `json:"want"`
	Trials          int    `json:"trials"`
	Recovered       int    `json:"recovered"`
	Flagged         int    `json:"flagged"`
	Corrupt         int    `json:"corrupt"`
	ReuseDetected   int    `json:"reuse_detected"`
	FamiliesRevoked int    `json:"families_revoked"`
	// RefreshesByA and RefreshesByB count, over all trials, the refresh
	// requests the sandbox received with the trial's refresh token before
	// and after replica A's lease could lapse: sent by A, and by B's
	// recovery. MaxPerToken is the most requests any trial's refresh token
	// got.
	RefreshesByA int `json:"refresh_requests_by_a"`
	RefreshesByB int `json:"refresh_requests_by_b"`
	MaxPerToken  int `json:"max_refresh_requests_per_token"`
	// Stall only: what A's forced refresh and B's GET /token answered
	// ("token" or the API error code), by answer.
	AAnswers    map[string]int `json:"a_answers,omitempty"`
	BAnswers    map[string]int `json:"b_answers,omitempty"`
	SettleP50Ms float64        `json:"settle_p50_ms"`
	SettleMaxMs float64        `json:"settle_max_ms"`
	Passed      bool           `json:"passed"`
	Note        string         `json:"note,omitempty"`
	Failures    []string       `json:"failures,omitempty"`
	Results     []*crashTrial  `json:"results"`
}

// crashTrial is one crash (or stall) and what became of the connection.
type crashTrial struct {
	Outcome  string  `json:"outcome"` // recovered, flagged or corrupt
	Detail   string  `json:"detail,omitempty"`
	SettleMs float64 `json:"settle_ms"`
	ByA      int     `json:"refresh_requests_by_a"`
	ByB      int     `json:"refresh_requests_by_b"`
	Reuse    int     `json:"reuse_detected"`
	Revoked  int     `json:"families_revoked"`
	A        string  `json:"a,omitempty"` // stall: A's answer
	B        string  `json:"b,omitempty"` // stall: B's answer

	log      *refreshLog // its world's
	rt       string      // the refresh token the trial started with
	aLapse   time.Time   // before it, only A can have sent with rt
	verifyAt time.Time   // the check refresh after recovery; zero if none
}

// loadCrash is RT-04 and RT-09 with real processes: replica A, a grantd
// built with the failpoint tag, is killed with SIGKILL at a failpoint
// inside a refresh (or, with --stall, stopped with SIGSTOP while its
// refresh is in flight), and replica B, on the same database, must settle
// the connection: recovered (replayed once inside the provider's reuse
// interval, or nothing to replay) or flagged needs_reauth, never a second
// send of a consumed refresh token. The sandbox is strict apart from the
// reuse interval, so a reuse would revoke the grant and show in its stats.
func loadCrash(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "load crash")
	binFlag := fs.String("binary", "", "grantd built with the failpoint tag (go build -tags failpoint -o grantd-fp ./cmd/grantd); required")
	trials := fs.Int("trials", 20, "trials per point and leeway (1..1000)")
	pointsFlag := fs.String("points", strings.Join(failpoint.Names, ","), "failpoints, comma-separated")
	leewayFlag := fs.String("leeway", "0,30s", "reuse intervals, comma-separated: the sandbox's and the provider's refresh_token.reuse_interval (default 0 with --stall)")
	dbFlag := fs.String("database", "sqlite", `"sqlite" (a file in a temp dir) or a postgres:// URL (a scratch schema is created in it)`)
	stall := fs.Duration("stall", 0, "RT-09 instead of failpoints: SIGSTOP replica A this long while its refresh is in flight (beyond its 1s timeout, inside its 10s lease)")
	parallel := fs.Int("parallel", 4, "independent worlds (sandbox, database, replicas B and A) running trials at once (1..8)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("load crash: unexpected argument %q", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *binFlag == "" {
		return usagef("load crash: --binary is required: a grantd built with the failpoint tag, e.g. go build -tags failpoint -o grantd-fp ./cmd/grantd")
	}
	if *trials < 1 || *trials > 1000 || *parallel < 1 || *parallel > 8 {
		return usagef("load crash: --trials must be 1..1000, --parallel 1..8")
	}
	points, err := crashPoints(*pointsFlag)
	if err != nil {
		return err
	}
	if *stall != 0 {
		if set["points"] {
			return usagef("load crash: --stall stops replica A instead of killing it at failpoints; leave out --points")
		}
		if *stall <= crashTimeoutA || *stall >= crashLeaseStall {
			return usagef("load crash: --stall must exceed replica A's refresh timeout (%s) and stay inside its lease (%s)", crashTimeoutA, crashLeaseStall)
		}
		points = []string{"stall"}
		if !set["leeway"] {
			*leewayFlag = "0"
		}
	}
	leeways, err := crashLeeways(*leewayFlag)
	if err != nil {
		return err
	}
	bin, err := failpointBinary(ctx, *binFlag)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "grantd-crash-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	procs := &procSet{kids: map[*replica]bool{}}
	worlds := make([]*crashRig, *parallel)
	label := ""
	taken := map[string]bool{}
	addr := func() (string, error) { // a loopback address no other world uses
		for {
			a, err := freeLoopbackAddr()
			if err != nil || !taken[a] {
				taken[a] = true
				return a, err
			}
		}
	}
	for i := range worlds {
		wdir := filepath.Join(dir, fmt.Sprintf("world%d", i))
		if err := os.Mkdir(wdir, 0o700); err != nil {
			return err
		}
		dsn, l, dropSchema, err := scratchDatabase(ctx, *dbFlag, wdir)
		if err != nil {
			return err
		}
		defer dropSchema()
		label = l
		if worlds[i], err = newCrashRig(ctx, bin, wdir, dsn, procs, addr); err != nil {
			return err
		}
		defer worlds[i].close()
	}
	// Before the worlds close and their schemas are dropped.
	defer procs.killAll()

	rep := &crashReport{Database: label, Mode: "failpoint", TrialsPerCase: *trials, Parallel: *parallel}
	if *stall != 0 {
		rep.Mode, rep.Stall = "stall", stall.String()
	}
	start := time.Now()
	var progressMu sync.Mutex
	progress := func(format string, args ...any) {
		if !*asJSON {
			progressMu.Lock()
			fmt.Fprintf(e.stderr, format, args...)
			progressMu.Unlock()
		}
	}
	progress("load crash: %d world(s) of a strict sandbox, replica B and %s replicas A, on %s\n", *parallel, filepath.Base(bin), label)
	for _, leeway := range leeways {
		for _, w := range worlds {
			if err := w.startB(ctx, leeway); err != nil {
				return err
			}
		}
		for _, point := range points {
			cc := &crashCase{Point: point, Leeway: leeway.String(), Want: crashWant(point, leeway, *stall)}
			cc.Results = make([]*crashTrial, *trials)
			if err := runTrials(ctx, worlds, cc.Results, func(ctx context.Context, w *crashRig) (*crashTrial, error) {
				if *stall != 0 {
					return w.stallTrial(ctx, *stall)
				}
				return w.failpointTrial(ctx, point)
			}, func(done int, t *crashTrial) {
				if done%10 == 0 || done == *trials {
					progress("  %s leeway %s: %d/%d trials (last: %s, settled in %.0f ms)\n", point, leeway, done, *trials, t.Outcome, t.SettleMs)
				}
			}); err != nil {
				return fmt.Errorf("%s, leeway %s: %w", point, leeway, err)
			}
			tally(cc, leeway)
			rep.Cases = append(rep.Cases, cc)
		}
		for _, w := range worlds {
			w.stopB()
		}
	}
	for _, cc := range rep.Cases {
		rep.Trials += cc.Trials
		rep.Corrupt += cc.Corrupt
		rep.ReuseDetected += cc.ReuseDetected
		rep.FamiliesRevoked += cc.FamiliesRevoked
		if !cc.Passed {
			rep.Failed++
		}
	}
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	if *asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else if err := printCrashReport(e.stdout, rep, filepath.Base(bin)); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d cases failed", rep.Failed, len(rep.Cases))
	}
	return nil
}

func crashPoints(list string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(list, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(failpoint.Names, p) {
			return nil, usagef("load crash: unknown failpoint %q (known: %s)", p, strings.Join(failpoint.Names, ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

func crashLeeways(list string) ([]time.Duration, error) {
	var out []time.Duration
	for s := range strings.SplitSeq(list, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 {
			return nil, usagef("load crash: --leeway wants durations such as 0,30s, got %q", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// failpointBinary resolves path and checks it is a failpoint build: such
// a build refuses an unknown GRANTD_FAILPOINT at start-up, while an
// ordinary one ignores the variable and prints its version.
func failpointBinary(ctx context.Context, path string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		path, err = filepath.Abs(path)
		if err != nil {
			return "", err
		}
	} else if path, err = exec.LookPath(path); err != nil {
		return "", usagef("load crash: --binary: %v", err)
	}
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Env = append(childEnv(), "GRANTD_FAILPOINT=load.crash.probe")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown failpoint") {
		return "", usagef("load crash: %s is not built with the failpoint tag (go build -tags failpoint -o grantd-fp ./cmd/grantd)", path)
	}
	return path, nil
}

// crashWant is the outcome RT-04 expects when replica A dies at point
// with the provider's reuse interval leeway. Before the journal nothing
// was sent and the token stays. After it, the refresh token may be
// consumed: B replays it once only if the interval still covers the time
// since A sent it (A's lease plus a sweep, about 2.5 s), otherwise it
// flags the connection. A leeway between 0 and that cannot be predicted.
// A stall leaves the answer to A, which stores it if it reads it in time
// and otherwise gives the refresh up for lost: then the connection
// recovers only if the leeway outlasts the stall and A's backoff (at most
// 5 s) before the replay.
func crashWant(point string, leeway, stall time.Duration) string {
	switch {
	case point == failpoint.RefreshBeforeJournal:
		return "recovered"
	case point == "stall" && leeway >= stall+5*time.Second:
		return "recovered"
	case point == "stall", leeway > 0 && leeway < crashLeaseA+2*time.Second:
		return "recovered or flagged"
	case leeway == 0:
		return "flagged"
	}
	return "recovered"
}

// crashRig is one world of a run: a sandbox, a database, replica B and
// the successive replicas A. Worlds share nothing, so that they can run
// trials side by side and each trial's sandbox counters are its own.
type crashRig struct {
	bin, dir string
	dsn      string
	sb       *sandbox.Server
	sbURL    string
	ep       sandbox.Endpoints
	sent     *refreshLog
	keys     *vault.Keyring
	secrets  []string
	adminKey string
	bAddr    string
	aAddr    string
	redirect string
	b        *replica
	leeway   time.Duration
	st       store.Store
	hc       *http.Client
	tenants  int
	procs    *procSet
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
	if r.sbURL, err = serveOn(ctx, r.sent.wrap(r.sb.Handler())); err != nil {
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
	ep := r.ep
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
  - name: pax8
    extends: pax8
    issuer: %q
    authorize_url: %q
    token_url: %q
    userinfo_url: %q
    jwks_url: %q
    revocation_url: %q
    api: {base_url: %q}
    refresh_token: {reuse_interval: %s}
integrations:
  - {id: pax8, provider: pax8, client_id: grantd-crash, client_secret_env: GRANTD_CRASH_CLIENT_SECRET, redirect_uri: %q}
`, addr, addr, r.dsn, refresh, ep.Issuer, ep.AuthorizeURL, ep.TokenURL, ep.UserinfoURL, ep.JWKSURL, ep.RevocationURL, ep.APIBaseURL, r.leeway, r.redirect)
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
	cmd.Env = append(append(childEnv(), r.secrets...), extraEnv...)
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
	if err := waitHealthy(hctx, "http://"+addr); err != nil {
		p.kill()
		return nil, fmt.Errorf("replica %s did not start: %w\n%s", name, err, tail(logPath, 20))
	}
	return p, nil
}

// childEnv is this process's environment without GRANTD_FAILPOINT, which
// only replica A gets.
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRANTD_FAILPOINT=") {
			out = append(out, kv)
		}
	}
	return out
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
func (r *crashRig) connect(ctx context.Context) (*apiClient, string, string, error) {
	base := "http://" + r.bAddr
	admin, err := newAPIClient(base, r.adminKey)
	if err != nil {
		return nil, "", "", err
	}
	r.tenants++
	var created struct {
		APIKey string `json:"api_key"`
	}
	if err := admin.do(ctx, http.MethodPost, "/v1/tenants", map[string]string{"name": fmt.Sprintf("Crash MSP %d", r.tenants)}, &created); err != nil {
		return nil, "", "", fmt.Errorf("create tenant: %w", err)
	}
	api, err := newAPIClient(base, created.APIKey)
	if err != nil {
		return nil, "", "", err
	}
	link, err := api.createSession(ctx, "", "pax8", "")
	if err != nil {
		return nil, "", "", err
	}
	if err := connectAsPartner(ctx, link.URL, base, demoPartner(), nil); err != nil {
		return nil, "", "", err
	}
	conns, err := api.connections(ctx)
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

// failpointTrial connects a fresh connection, starts replica A armed at
// point, forces a refresh on A (a fresh token, so B has no reason to
// touch it first), expects A to die of SIGKILL, and watches B settle the
// connection.
func (r *crashRig) failpointTrial(ctx context.Context, point string) (*crashTrial, error) {
	api, id, rt, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	a, err := r.startReplica(ctx, "a", r.aAddr, r.config(r.aAddr, crashRefreshA), "GRANTD_FAILPOINT="+point)
	if err != nil {
		return nil, err
	}
	before := r.sb.Stats().Providers[sandbox.Pax8]
	t := &crashTrial{log: r.sent, rt: rt, aLapse: time.Now().Add(crashLeaseA)}
	onA := r.onReplica(api, a)
	err = onA.do(ctx, http.MethodPost, "/v1/connections/"+url.PathEscape(id)+"/refresh", nil, nil)
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		a.kill()
		return nil, fmt.Errorf("replica A did not die at %s (its answer: %v); is %s a failpoint build?\n%s", point, err, r.bin, tail(a.log, 20))
	}
	if !a.killedBySIGKILL() {
		return nil, fmt.Errorf("replica A exited with %s, want SIGKILL at %s\n%s", a.cmd.ProcessState, point, tail(a.log, 20))
	}
	died := time.Now()
	c, settled, err := r.settle(ctx, id)
	if err != nil {
		return nil, err
	}
	t.SettleMs = ms(time.Since(died))
	r.judge(ctx, api, id, c, settled, t)
	after := r.sb.Stats().Providers[sandbox.Pax8]
	t.Reuse = after.RefreshReuseDetected - before.RefreshReuseDetected
	t.Revoked = after.FamiliesRevoked - before.FamiliesRevoked
	return t, nil
}

// stallTrial is RT-09: replica A (no failpoint; lease 10 s, timeout 1 s)
// is forced to refresh against a sandbox that answers after 300 ms, and
// is stopped with SIGSTOP as soon as the request arrives. The access
// token is then expired, so that B, asked for it, must wait on A's lease.
// After the stall A resumes; whatever it decides, the refresh token must
// have been sent once.
func (r *crashRig) stallTrial(ctx context.Context, stall time.Duration) (*crashTrial, error) {
	api, id, rt, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	a, err := r.startReplica(ctx, "a", r.aAddr, r.config(r.aAddr, crashRefreshStall))
	if err != nil {
		return nil, err
	}
	defer a.stop()
	defer r.sb.ClearFaults()
	before := r.sb.Stats().Providers[sandbox.Pax8]
	t := &crashTrial{log: r.sent, rt: rt, aLapse: time.Now().Add(crashLeaseStall)}
	arrived := r.sent.await(rt)
	if err := r.sb.AddFault(sandbox.Fault{Kind: "slow", Endpoint: "token", GrantType: "refresh_token", Delay: 300 * time.Millisecond}); err != nil {
		return nil, err
	}
	aDone := make(chan string, 1)
	go func() {
		var tok tokenJSON
		err := r.onReplica(api, a).do(ctx, http.MethodPost, "/v1/connections/"+url.PathEscape(id)+"/refresh", nil, &tok)
		aDone <- answer(tok, err)
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("replica A's refresh never reached the sandbox\n%s", tail(a.log, 20))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return nil, fmt.Errorf("SIGSTOP replica A: %w", err)
	}
	if _, err := r.st.UpdateConnection(ctx, id, func(c store.Connection) (store.Connection, error) {
		c.AccessExpiresAt = time.Now().Add(-time.Minute).UTC()
		return c, nil
	}); err != nil {
		return nil, fmt.Errorf("expire token: %w", err)
	}
	bDone := make(chan string, 1)
	go func() {
		tok, err := api.token(ctx, id)
		if err == nil && validAtSandbox(ctx, r.hc, r.ep.UserinfoURL, tok.AccessToken) != nil {
			bDone <- "invalid token"
			return
		}
		bDone <- answer(tok, err)
	}()
	select {
	case <-time.After(stall):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return nil, fmt.Errorf("SIGCONT replica A: %w", err)
	}
	resumed := time.Now()
	t.A, t.B = <-aDone, <-bDone
	c, settled, err := r.settle(ctx, id)
	if err != nil {
		return nil, err
	}
	t.SettleMs = ms(time.Since(resumed))
	r.judge(ctx, api, id, c, settled, t)
	if t.B == "invalid token" {
		t.Outcome, t.Detail = "corrupt", "B handed out a token the sandbox refuses"
	}
	after := r.sb.Stats().Providers[sandbox.Pax8]
	t.Reuse = after.RefreshReuseDetected - before.RefreshReuseDetected
	t.Revoked = after.FamiliesRevoked - before.FamiliesRevoked
	return t, nil
}

// runTrials fills results, one trial per slot, with the worlds taking
// the next free slot as they become free. The first error stops them all.
func runTrials(ctx context.Context, worlds []*crashRig, results []*crashTrial, trial func(context.Context, *crashRig) (*crashTrial, error), done func(n int, t *crashTrial)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		next, n  int
		firstErr error
		wg       sync.WaitGroup
	)
	for _, w := range worlds {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(results) || ctx.Err() != nil {
					return
				}
				t, err := trial(ctx, w)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("trial %d: %w", i+1, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				results[i] = t
				n++
				done(n, t)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// onReplica is api aimed at replica p.
func (r *crashRig) onReplica(api *apiClient, p *replica) *apiClient {
	c := *api
	c.base = "http://" + p.addr
	return &c
}

// answer is "token" or the API error code of err.
func answer(tok tokenJSON, err error) string {
	if err == nil {
		if tok.AccessToken == "" {
			return "empty token"
		}
		return "token"
	}
	if ae, ok := errors.AsType[*apiError](err); ok && ae.Code != "" {
		return ae.Code
	}
	return "network error"
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

// judge classifies a settled connection. Recovered: active, its tokens
// open with the vault key, B hands out a token the sandbox accepts, and a
// forced refresh through B works (the stored refresh token is live, not
// consumed). Flagged: needs_reauth with the journal entry kept, and B
// refuses the token. Anything else is corrupt.
func (r *crashRig) judge(ctx context.Context, api *apiClient, id string, c store.Connection, settled bool, t *crashTrial) {
	corrupt := func(format string, args ...any) {
		t.Outcome, t.Detail = "corrupt", fmt.Sprintf(format, args...)
	}
	switch {
	case !settled:
		corrupt("not settled after %s: status %s, journal entry %t, lease until %s", crashSettleLimit, c.Status, c.RefreshAttempt != "", formatTime(c.LeaseExpiresAt))
	case c.Status == store.StatusNeedsReauth && c.RefreshAttempt != "":
		_, err := api.token(ctx, id)
		if got := answer(tokenJSON{}, err); got != "needs_reauth" {
			corrupt("needs_reauth, but B's GET /token answers %s", got)
			return
		}
		t.Outcome = "flagged"
	case c.Status == store.StatusActive && c.RefreshAttempt == "":
		if _, err := r.keys.Open(c.AccessToken, vault.AAD("connection", id, "access_token")); err != nil {
			corrupt("the stored access token does not open: %v", err)
			return
		}
		if rt, err := r.keys.Open(c.RefreshToken, vault.AAD("connection", id, "refresh_token")); err != nil || len(rt) == 0 {
			corrupt("the stored refresh token does not open (%v)", err)
			return
		}
		tok, err := api.token(ctx, id)
		if err != nil {
			corrupt("active, but B's GET /token answers %s", answer(tok, err))
			return
		}
		if err := validAtSandbox(ctx, r.hc, r.ep.UserinfoURL, tok.AccessToken); err != nil {
			corrupt("active, but %v", err)
			return
		}
		t.verifyAt = time.Now()
		var fresh tokenJSON
		if err := api.do(ctx, http.MethodPost, "/v1/connections/"+url.PathEscape(id)+"/refresh", nil, &fresh); err != nil {
			corrupt("active, but a refresh with the stored refresh token fails: %s", answer(fresh, err))
			return
		}
		if err := validAtSandbox(ctx, r.hc, r.ep.UserinfoURL, fresh.AccessToken); err != nil {
			corrupt("active, but after a refresh %v", err)
			return
		}
		t.Outcome = "recovered"
	case c.Status == store.StatusNeedsReauth:
		corrupt("needs_reauth without a journal entry (%s)", c.LastError)
	default:
		corrupt("status %s, journal entry %t", c.Status, c.RefreshAttempt != "")
	}
}

// tally counts each trial's refresh requests (late ones included, so a
// blind retry after settling still shows) and checks the case against
// what RT-04 or RT-09 wants.
func tally(cc *crashCase, leeway time.Duration) {
	var settle []float64
	for i, t := range cc.Results {
		for _, at := range t.log.times(t.rt) {
			switch {
			case !t.verifyAt.IsZero() && !at.Before(t.verifyAt):
				// the check refresh after recovery
			case cc.Point == "stall", at.Before(t.aLapse):
				// A stalled gives its lease up early when it times out,
				// so who sent is not told by the time: all count as A's.
				t.ByA++
			default:
				t.ByB++
			}
		}
		cc.Trials++
		cc.RefreshesByA += t.ByA
		cc.RefreshesByB += t.ByB
		cc.MaxPerToken = max(cc.MaxPerToken, t.ByA+t.ByB)
		cc.ReuseDetected += t.Reuse
		cc.FamiliesRevoked += t.Revoked
		settle = append(settle, t.SettleMs)
		switch t.Outcome {
		case "recovered":
			cc.Recovered++
		case "flagged":
			cc.Flagged++
		default:
			cc.Corrupt++
		}
		if cc.Point == "stall" {
			if cc.AAnswers == nil {
				cc.AAnswers, cc.BAnswers = map[string]int{}, map[string]int{}
			}
			cc.AAnswers[t.A]++
			cc.BAnswers[t.B]++
		}
		var problems []string
		if t.Outcome == "corrupt" {
			problems = append(problems, "corrupt: "+t.Detail)
		} else if !strings.Contains(cc.Want, t.Outcome) {
			problems = append(problems, fmt.Sprintf("%s, want %s", t.Outcome, cc.Want))
		}
		if t.Reuse != 0 || t.Revoked != 0 {
			problems = append(problems, fmt.Sprintf("sandbox detected %d reuses and revoked %d families", t.Reuse, t.Revoked))
		}
		if a, b, ok := crashSends(cc.Point, leeway, t); !ok {
			problems = append(problems, fmt.Sprintf("refresh requests with the trial's token: %d by A, %d by B; want %s", t.ByA, t.ByB, crashSendsWant(cc.Point, a, b)))
		}
		if len(problems) > 0 {
			cc.Failures = append(cc.Failures, fmt.Sprintf("trial %d: %s", i+1, strings.Join(problems, "; ")))
		}
	}
	cc.SettleP50Ms = quantileF(settle, 0.5)
	cc.SettleMaxMs = quantileF(settle, 1)
	cc.Passed = len(cc.Failures) == 0
}

// crashSends returns how many refresh requests with the trial's refresh
// token A and B should have sent (-1: either 0 or 1) and whether t
// matches. A sends nothing before the send, and once from the send on.
// B sends only to replay, once, when the trial recovered from a journal
// entry. In a stall the token is sent once, plus one replay at most when
// a leeway allows it (all counted as A's).
func crashSends(point string, leeway time.Duration, t *crashTrial) (a, b int, ok bool) {
	switch point {
	case "stall":
		if leeway > 0 {
			return 1, 0, (t.ByA == 1 || t.ByA == 2) && t.ByB == 0
		}
		a, b = 1, 0
	case failpoint.RefreshBeforeJournal:
		a, b = 0, 0
	case failpoint.RefreshBeforeSend:
		a, b = 0, 0
	default:
		a, b = 1, 0
	}
	if point != "stall" && point != failpoint.RefreshBeforeJournal && t.Outcome == "recovered" {
		b = 1
	}
	match := func(want, got int) bool { return want == got || want == -1 && got <= 1 }
	return a, b, match(a, t.ByA) && match(b, t.ByB)
}

func crashSendsWant(point string, a, b int) string {
	f := func(n int) string {
		if n < 0 {
			return "at most 1"
		}
		return strconv.Itoa(n)
	}
	return f(a) + " by A, " + f(b) + " by B"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func printCrashReport(w io.Writer, rep *crashReport, bin string) error {
	if rep.Mode == "stall" {
		fmt.Fprintf(w, "RT-09: replica A stopped (SIGSTOP) for %s with its refresh in flight, %d trials per leeway, on %s (%s)\n", rep.Stall, rep.TrialsPerCase, rep.Database, bin)
	} else {
		fmt.Fprintf(w, "RT-04: replica A killed (SIGKILL) inside a refresh, %d trials per point and leeway, on %s (%s)\n", rep.TrialsPerCase, rep.Database, bin)
	}
	tb := newTable(w, "point", "leeway", "trials", "recovered", "flagged", "corrupt", "reuse", "refreshes A/B", "settle p50 ms", "settle max ms", "want", "result")
	for _, cc := range rep.Cases {
		result := "ok"
		if !cc.Passed {
			result = "FAIL"
		}
		tb.row(cc.Point, cc.Leeway, strconv.Itoa(cc.Trials), strconv.Itoa(cc.Recovered), strconv.Itoa(cc.Flagged), strconv.Itoa(cc.Corrupt),
			strconv.Itoa(cc.ReuseDetected), fmt.Sprintf("%d/%d", cc.RefreshesByA, cc.RefreshesByB),
			fmt.Sprintf("%.0f", cc.SettleP50Ms), fmt.Sprintf("%.0f", cc.SettleMaxMs), cc.Want, result)
	}
	if err := tb.flush(); err != nil {
		return err
	}
	for _, cc := range rep.Cases {
		if cc.Point == "stall" {
			fmt.Fprintf(w, "  leeway %s: A's forced refresh answered %s; B's GET /token during the stall answered %s; at most %d refresh requests per refresh token\n",
				cc.Leeway, countsString(cc.AAnswers), countsString(cc.BAnswers), cc.MaxPerToken)
		}
		if cc.Note != "" {
			fmt.Fprintf(w, "  note: %s leeway %s: %s\n", cc.Point, cc.Leeway, cc.Note)
		}
		for _, f := range cc.Failures {
			fmt.Fprintf(w, "  FAIL %s leeway %s %s\n", cc.Point, cc.Leeway, f)
		}
	}
	fmt.Fprintf(w, "  %d trials: %d corrupt, %d reuses detected, %d families revoked; %d failed cases; total %s\n",
		rep.Trials, rep.Corrupt, rep.ReuseDetected, rep.FamiliesRevoked, rep.Failed, rep.Elapsed)
	return nil
}

func countsString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// tail returns the last n lines of the file at path, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// refreshLog records, by refresh token, when each refresh-token grant
// request reached the sandbox, before the sandbox handles it. It is safe
// for concurrent use.
type refreshLog struct {
	tokenPath string

	mu      sync.Mutex
	byToken map[string][]time.Time
	waiters map[string]chan struct{}
}

// wrap records the refresh requests that pass through to next.
func (l *refreshLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && req.URL.Path == l.tokenPath {
			at := time.Now()
			b, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
			req.Body.Close()
			req.Body = io.NopCloser(bytes.NewReader(b))
			if rt := refreshTokenIn(b); err == nil && rt != "" {
				l.add(rt, at)
			}
		}
		next.ServeHTTP(w, req)
	})
}

// refreshTokenIn returns the refresh token of a refresh-token grant
// request body, JSON or form-encoded, or "".
func refreshTokenIn(body []byte) string {
	var v struct {
		GrantType    string `json:"grant_type"`
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(body, &v) != nil {
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return ""
		}
		v.GrantType, v.RefreshToken = q.Get("grant_type"), q.Get("refresh_token")
	}
	if v.GrantType != "refresh_token" {
		return ""
	}
	return v.RefreshToken
}

func (l *refreshLog) add(rt string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byToken[rt] = append(l.byToken[rt], at)
	if ch := l.waiters[rt]; ch != nil {
		close(ch)
		delete(l.waiters, rt)
	}
}

// await returns a channel closed when a request with rt arrives.
func (l *refreshLog) await(rt string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	if len(l.byToken[rt]) > 0 {
		close(ch)
		return ch
	}
	l.waiters[rt] = ch
	return ch
}

func (l *refreshLog) times(rt string) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.byToken[rt])
}
