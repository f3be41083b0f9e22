package herd

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/load"
	"github.com/grantd/grantd/internal/load/fleet"
	"github.com/grantd/grantd/internal/partner"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/vault"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create a scratch schema
)

// Report is the outcome of the multi-process refresh scenario
// (RT-01, RT-02, RT-06 of the security checklist).
type Report struct {
	Database          string    `json:"database"`
	Replicas          int       `json:"replicas"`
	CallersPerReplica int       `json:"callers_per_replica"`
	Iterations        int       `json:"iterations"`
	Passed            int       `json:"passed"`
	RefreshRequests   []int     `json:"-"`
	MaxRefreshes      int       `json:"max_refresh_requests_per_iteration"`
	MinRefreshes      int       `json:"min_refresh_requests_per_iteration"`
	ReuseDetected     int       `json:"reuse_detected"`
	CallersOK         int       `json:"callers_ok"`
	CallersTotal      int       `json:"callers_total"`
	DistinctTokensMax int       `json:"distinct_tokens_max"`
	IterationP50Ms    float64   `json:"iteration_p50_ms"`
	IterationP99Ms    float64   `json:"iteration_p99_ms"`
	Failures          []string  `json:"failures,omitempty"`
	Elapsed           string    `json:"elapsed"`
	started           time.Time `json:"-"`
}

// Options configures [Run].
type Options struct {
	// Binary is the grantd executable the replicas run.
	Binary string
	// Database is "sqlite" or a postgres:// URL.
	Database string
	// Replicas is the number of grantd processes (1..8).
	Replicas int
	// Callers is the number of concurrent callers per process (1..1000).
	Callers int
	// Iterations is the number of expire-and-ask rounds (1..10000).
	Iterations int
	// Progress, when not nil, is told how the run goes.
	Progress io.Writer
}

// Check reports what is wrong with o, if anything.
func (o Options) Check() error {
	if o.Replicas < 1 || o.Callers < 1 || o.Iterations < 1 || o.Replicas > 8 || o.Callers > 1000 || o.Iterations > 10000 {
		return errors.New("replicas 1..8, callers 1..1000, iterations 1..10000")
	}
	if o.Binary == "" {
		return errors.New("no grantd binary")
	}
	return fleet.CheckDatabase(o.Database)
}

// PrintReport writes rep for people.
func PrintReport(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "refresh under concurrency: %d processes × %d callers on %s, %d iterations\n", rep.Replicas, rep.CallersPerReplica, rep.Database, rep.Iterations)
	fmt.Fprintf(w, "  passed %d/%d; refresh requests per iteration min %d max %d; reuse detected %d; callers ok %d/%d; distinct tokens per iteration max %d\n",
		rep.Passed, rep.Iterations, rep.MinRefreshes, rep.MaxRefreshes, rep.ReuseDetected, rep.CallersOK, rep.CallersTotal, rep.DistinctTokensMax)
	fmt.Fprintf(w, "  iteration wall time p50 %.1f ms, p99 %.1f ms; total %s\n", rep.IterationP50Ms, rep.IterationP99Ms, rep.Elapsed)
	for _, f := range rep.Failures {
		fmt.Fprintln(w, "  FAIL", f)
	}
}

// Run starts N grantd processes on one database, connects the demo
// partner once, then repeatedly expires the access token and has every
// process's callers ask for it at once, against the sandbox in strict mode
// (rotation on, reuse interval 0). Each iteration passes when exactly one
// refresh request reached the sandbox, no reuse was detected, and every
// caller got the same token, which the sandbox accepts.
//
// Run returns the report; failed iterations are counted in it, and the
// error is for a harness that could not run.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	dbFlag, replicas, callers, iterations := &o.Database, &o.Replicas, &o.Callers, &o.Iterations
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format, args...)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "grantd-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	dsn, label, dropSchema, err := fleet.ScratchDatabase(ctx, *dbFlag, dir)
	if err != nil {
		return nil, err
	}
	defer dropSchema()

	// The sandbox, strict: rotation on, reuse interval 0.
	sb, err := sandbox.New(sandbox.Options{Pax8: sandbox.Settings{
		Rotation: true, AccessTTL: 24 * time.Hour, RefreshAbsolute: 8766 * time.Hour, RefreshIdle: 720 * time.Hour,
	}})
	if err != nil {
		return nil, err
	}
	sbURL, err := fleet.ServeOn(ctx, sb.Handler())
	if err != nil {
		return nil, err
	}
	sb.SetBaseURL(sbURL)
	ep := sb.Endpoints(sandbox.Pax8)

	// N replicas of grantd, as separate processes.
	key, err := vault.GenerateKey(1)
	if err != nil {
		return nil, err
	}
	secrets := []string{
		"GRANTD_VAULT_KEYS=" + key.Encode(),
		"GRANTD_ADMIN_KEY=gda_" + rand.Text(),
		"GRANTD_LOAD_CLIENT_SECRET=" + rand.Text() + rand.Text(),
	}
	adminKey := strings.TrimPrefix(secrets[1], "GRANTD_ADMIN_KEY=")
	addrs := make([]string, *replicas)
	for i := range addrs {
		if addrs[i], err = fleet.FreeLoopbackAddr(); err != nil {
			return nil, err
		}
	}
	redirect := "http://" + addrs[0] + "/oauth/callback/pax8"
	sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: "grantd-load", Secret: strings.TrimPrefix(secrets[2], "GRANTD_LOAD_CLIENT_SECRET="), RedirectURIs: []string{redirect}})
	exe := o.Binary
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			p.Process.Signal(os.Interrupt)
			p.Wait()
		}
	}()
	for i, addr := range addrs {
		cfg := fleet.Replica{
			Addr: addr, DSN: dsn, Refresh: "{interval: 1h}", Provider: sandbox.ProviderYAML(sandbox.Pax8, ep),
			ClientID: "grantd-load", SecretEnv: "GRANTD_LOAD_CLIENT_SECRET", RedirectURI: redirect,
		}.YAML()
		path := filepath.Join(dir, fmt.Sprintf("replica%d.yaml", i))
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			return nil, err
		}
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
		if err != nil {
			return nil, err
		}
		defer logf.Close()
		p := exec.CommandContext(ctx, exe, "serve", "--config", path)
		p.Env = append(os.Environ(), secrets...)
		p.Stdout, p.Stderr = logf, logf
		if err := p.Start(); err != nil {
			return nil, fmt.Errorf("start replica %d: %w", i, err)
		}
		procs = append(procs, p)
		if err := fleet.WaitHealthy(ctx, "http://"+addr); err != nil {
			b, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("replica %d: %w\n%s", i, err, b)
		}
	}
	progress("load refresh: %d grantd processes on %s, sandbox strict at %s\n", *replicas, label, sbURL)

	// One tenant, one connection, made through replica 0 like a browser.
	admin, err := grantd.NewClient("http://"+addrs[0], adminKey)
	if err != nil {
		return nil, err
	}
	_, tenantKey, err := admin.CreateTenant(ctx, "Load MSP")
	if err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	api, err := grantd.NewClient("http://"+addrs[0], tenantKey)
	if err != nil {
		return nil, err
	}
	link, err := api.CreateConnectSession(ctx, grantd.ConnectSessionRequest{IntegrationID: "pax8"})
	if err != nil {
		return nil, err
	}
	if err := partner.Connect(ctx, link.URL, "http://"+addrs[0], partner.Demo(), nil); err != nil {
		return nil, err
	}
	conns, err := api.Connections(ctx, grantd.ListOptions{})
	if err != nil || len(conns) != 1 {
		return nil, fmt.Errorf("want one connection after the flow, got %d (%v)", len(conns), err)
	}
	connID := conns[0].ID

	st, err := sqlstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer st.Close()

	rep := &Report{Database: label, Replicas: *replicas, CallersPerReplica: *callers, Iterations: *iterations, MinRefreshes: -1, started: time.Now()}
	hc := load.Client(*callers * *replicas)
	var iterTimes []float64
	for i := range *iterations {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		took, err := refreshIteration(ctx, st, sb, hc, addrs, tenantKey, connID, *callers, ep.UserinfoURL, rep)
		iterTimes = append(iterTimes, float64(took)/float64(time.Millisecond))
		if err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("iteration %d: %v", i+1, err))
		} else {
			rep.Passed++
		}
		if (i+1)%10 == 0 {
			progress("  %d/%d iterations, %d passed\n", i+1, *iterations, rep.Passed)
		}
	}
	rep.IterationP50Ms = fleet.Quantile(iterTimes, 0.5)
	rep.IterationP99Ms = fleet.Quantile(iterTimes, 0.99)
	rep.Elapsed = time.Since(rep.started).Round(time.Millisecond).String()
	return rep, nil
}

// refreshIteration expires the stored access token, releases every caller
// at once, and checks the outcome.
func refreshIteration(ctx context.Context, st store.Store, sb *sandbox.Server, hc *http.Client, addrs []string, apiKey, connID string, callers int, userinfoURL string, rep *Report) (time.Duration, error) {
	before := sb.Stats().Providers[sandbox.Pax8]
	if _, err := st.UpdateConnection(ctx, connID, func(c store.Connection) (store.Connection, error) {
		c.AccessExpiresAt = time.Now().Add(-time.Minute).UTC()
		return c, nil
	}); err != nil {
		return 0, fmt.Errorf("expire token: %w", err)
	}
	var (
		mu     sync.Mutex
		tokens = map[string]int{}
		errs   []string
		wg     sync.WaitGroup
		gate   = make(chan struct{})
	)
	hdr := http.Header{"Authorization": {"Bearer " + apiKey}}
	for _, addr := range addrs {
		target := "http://" + addr + "/v1/connections/" + connID + "/token"
		for range callers {
			wg.Go(func() {
				<-gate
				body, err := fleet.Fetch(ctx, hc, target, hdr)
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				if err == nil {
					err = json.Unmarshal(body, &tok)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err.Error())
					return
				}
				tokens[tok.AccessToken]++
			})
		}
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	took := time.Since(start)
	after := sb.Stats().Providers[sandbox.Pax8]
	refreshes := fleet.Sum(after.TokenRequests["refresh_token"]) - fleet.Sum(before.TokenRequests["refresh_token"])
	reuse := after.RefreshReuseDetected - before.RefreshReuseDetected

	total := len(addrs) * callers
	rep.CallersTotal += total
	rep.CallersOK += total - len(errs)
	rep.ReuseDetected += reuse
	rep.MaxRefreshes = max(rep.MaxRefreshes, refreshes)
	if rep.MinRefreshes < 0 || refreshes < rep.MinRefreshes {
		rep.MinRefreshes = refreshes
	}
	rep.DistinctTokensMax = max(rep.DistinctTokensMax, len(tokens))

	var problems []string
	if refreshes != 1 {
		problems = append(problems, fmt.Sprintf("%d refresh requests, want 1", refreshes))
	}
	if reuse != 0 {
		problems = append(problems, fmt.Sprintf("%d reuses detected", reuse))
	}
	if len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("%d/%d callers failed (first: %s)", len(errs), total, errs[0]))
	}
	if len(tokens) != 1 {
		problems = append(problems, fmt.Sprintf("%d distinct tokens, want 1", len(tokens)))
	}
	for tok := range tokens {
		if err := fleet.ValidAtSandbox(ctx, hc, userinfoURL, tok); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return took, errors.New(strings.Join(problems, "; "))
	}
	return took, nil
}
