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
	"time"

	"github.com/grantd/grantd/internal/load"
	"github.com/grantd/grantd/internal/sandbox"
)

// baselineWarmup is run before the baseline counts, so that connections
// are open; with a rate cap the count also waits for the first 429, when
// the cap's bucket, which starts full, is empty.
const baselineWarmup = time.Second

// baseline measures the sandbox alone: conc workers, each holding one
// grant, refresh it over and over (sending the rotated token each time)
// and it returns the refresh grants the sandbox answered per second over
// d, after the warm-up. A 429 costs the worker 5 ms and counts nothing,
// so with a cap this measures the cap.
func (r *rig) baseline(ctx context.Context, conc int, d time.Duration, capped bool) (float64, error) {
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
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for _, rt := range tokens {
		wg.Go(func() {
			for ctx.Err() == nil {
				next, status, err := r.refreshOnce(ctx, hc, rt)
				switch {
				case err != nil:
					if ctx.Err() != nil {
						return
					}
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
				}
			}
		})
	}
	stats := func() (ok, limited int) {
		ps := r.sb.Stats().Providers[sandbox.Pax8]
		return ps.TokenRequests["refresh_token"]["ok"], ps.TokenRateLimited
	}
	_, limited0 := stats()
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	sleep(baselineWarmup)
	for end := time.Now().Add(10 * time.Second); capped && time.Now().Before(end); {
		if _, l := stats(); l > limited0 || !sleep(10*time.Millisecond) {
			break
		}
	}
	ok1, _ := stats()
	t1 := time.Now()
	sleep(d)
	ok2, _ := stats()
	el := time.Since(t1)
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(ok2-ok1) / el.Seconds(), nil
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
