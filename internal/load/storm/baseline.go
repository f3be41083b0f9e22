package storm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grantd/grantd/internal/load"
	"github.com/grantd/grantd/internal/sandbox"
)

// baselineWarmup is run before the baseline counts: connections open,
// and a rate cap's bucket, which starts full, empties.
const baselineWarmup = time.Second

// baseline measures the sandbox alone: conc workers, each holding one
// grant, refresh it over and over (sending the rotated token each time)
// for baselineWarmup and then d, and it returns the refresh grants
// answered per second during d. A 429 costs the worker 5 ms and counts
// nothing, so with a cap this measures the cap.
func (r *rig) baseline(ctx context.Context, conc int, d time.Duration) (float64, error) {
	var tokens []string
	err := r.sb.MintGrants(sandbox.BulkGrants{ClientID: clientID, Count: conc, Scopes: seedScopes, SubjectPrefix: "auth0|baseline-"}, func(g sandbox.MintedGrant) error {
		tokens = append(tokens, g.RefreshToken)
		return nil
	})
	if err != nil {
		return 0, err
	}
	hc := load.Client(conc)
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		ok       atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	start := time.Now().Add(baselineWarmup)
	deadline := start.Add(d)
	for _, rt := range tokens {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				next, status, err := r.refreshOnce(ctx, hc, rt)
				switch {
				case err != nil:
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				case status == http.StatusTooManyRequests:
					time.Sleep(5 * time.Millisecond)
				default:
					rt = next
					if time.Now().After(start) {
						ok.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(ok.Load()) / d.Seconds(), nil
}

// refreshOnce sends one refresh-token grant to the sandbox, as grantd
// does for Pax8 (form-encoded, client secret in the body).
func (r *rig) refreshOnce(ctx context.Context, hc *http.Client, rt string) (string, int, error) {
	form := url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {clientID}, "client_secret": {r.secret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.ep.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		io.Copy(io.Discard, resp.Body)
		return "", resp.StatusCode, nil
	}
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", resp.StatusCode, fmt.Errorf("baseline refresh: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.RefreshToken == "" {
		return "", resp.StatusCode, fmt.Errorf("baseline refresh: no refresh token in the answer (%v)", err)
	}
	return tok.RefreshToken, resp.StatusCode, nil
}
