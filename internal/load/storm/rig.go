package storm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/load/fleet"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/vault"
)

// clientID is the OAuth client the replicas use at the sandbox.
const clientID = "grantd-storm"

// rig is one world: a sandbox, a scratch database, a vault key and the
// replicas' shared configuration. Worlds share nothing.
type rig struct {
	opts   Options
	dir    string
	dsn    string
	label  string
	drop   func()
	sb     *sandbox.Server
	sbURL  string
	ep     sandbox.Endpoints
	secret string
	keys   *vault.Keyring
	env    []string
	st     *sqlstore.DB
	hc     *http.Client
	redir  string
	cancel context.CancelFunc
}

// newRig builds a world for o and opens its store.
func newRig(ctx context.Context, o Options) (_ *rig, err error) {
	r := &rig{opts: o, drop: func() {}}
	ctx, r.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if r.dir, err = os.MkdirTemp("", "grantd-storm-"); err != nil {
		return nil, err
	}
	if r.dsn, r.label, r.drop, err = fleet.ScratchDatabase(ctx, o.Database, r.dir); err != nil {
		return nil, err
	}
	// Pax8 strict (rotation on, reuse interval 0), with the latency and
	// rate cap asked for.
	st := sandbox.DefaultSettings()
	st.TokenLatency = o.Latency
	if o.Cap > 0 {
		st.TokenRateLimit, st.TokenRateBurst = o.Cap, o.burst()
	}
	if r.sb, err = sandbox.New(sandbox.Options{Pax8: st}); err != nil {
		return nil, err
	}
	if r.sbURL, err = fleet.ServeOn(ctx, r.sb.Handler()); err != nil {
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
	r.secret = rand.Text() + rand.Text()
	r.env = []string{
		"GRANTD_VAULT_KEYS=" + key.Encode(),
		"GRANTD_ADMIN_KEY=gda_" + rand.Text(),
		"GRANTD_STORM_CLIENT_SECRET=" + r.secret,
	}
	r.redir = "http://127.0.0.1:1/oauth/callback/pax8" // never visited: connections are seeded
	r.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: clientID, Secret: r.secret, RedirectURIs: []string{r.redir}})
	r.hc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, Proxy: nil}, Timeout: time.Minute}

	if r.st, err = sqlstore.Open(ctx, r.dsn, slog.New(slog.DiscardHandler)); err != nil {
		return nil, err
	}
	// A config the replicas refuse fails here, not in every replica.
	if _, err := config.Parse([]byte(r.config("127.0.0.1:1"))); err != nil {
		return nil, fmt.Errorf("replica config: %w", err)
	}
	return r, nil
}

func (r *rig) close() {
	if r.st != nil {
		r.st.Close()
	}
	if r.cancel != nil {
		r.cancel()
	}
	if r.drop != nil {
		r.drop()
	}
	if r.dir != "" {
		os.RemoveAll(r.dir)
	}
}

// config is one replica's YAML: the claim scheduler's workers and the
// provider's token-endpoint rate.
func (r *rig) config(addr string) string {
	o := r.opts
	var extra []string
	if rate, burst := o.providerRate(); rate > 0 {
		extra = append(extra, fmt.Sprintf("refresh: {max_refresh_rate: %g, max_refresh_burst: %d}", rate, burst))
	}
	return fleet.Replica{
		Addr: addr, DSN: r.dsn, Refresh: fmt.Sprintf("{interval: 1s, workers: %d}", o.Workers),
		Provider: sandbox.ProviderYAML(sandbox.Pax8, r.ep, extra...),
		ClientID: clientID, SecretEnv: "GRANTD_STORM_CLIENT_SECRET", RedirectURI: r.redir,
	}.YAML()
}

// waitHealthy polls base's /healthz until it answers 200, for at most
// 60 s, and returns when it did.
func waitHealthy(ctx context.Context, base string, exited <-chan struct{}) (time.Time, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-exited:
			return time.Time{}, errors.New("the process exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return time.Time{}, errors.New("not healthy after 60 s")
}
