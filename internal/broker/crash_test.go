package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/failpoint"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/store"
)

// crashTrials is how many crashes TestCrashInsideRefresh injects per point
// and leeway: GRANTD_CRASH_TRIALS, default 10 (the checklist's 200 takes
// about a minute per point).
func crashTrials(t *testing.T) int {
	if v := os.Getenv("GRANTD_CRASH_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("GRANTD_CRASH_TRIALS=%q is not a positive number", v)
		}
		return n
	}
	return 10
}

// TestCrashInsideRefresh is RT-04 in one process: a replica dies (its
// refresh goroutine exits at a failpoint, leaving its lease and whatever it
// committed) at each point inside a refresh, and another replica's
// background sweep finds the connection once the lease lapses.
//
//   - Before the journal: nothing was sent; the sweep refreshes normally.
//   - Before the send, after the journal; after the answer, before the
//     commit: the refresh token may be consumed. With a reuse interval
//     longer than the recovery time (the lease), the sweep replays it once
//     and the grant survives; with none (strict, leeway 0) the sweep marks
//     the connection needs_reauth and sends nothing.
//
// Every trial checks: 0 reuses and 0 revoked families at the sandbox, no
// connection left active with a journal entry or needs_reauth without one
// (no consumed token without a journal entry), and an active connection's
// token accepted by the sandbox. The in-process failpoint cannot stop the
// transport's writer, so "after send" is covered by the real-process
// harness (grantd load crash) and by TestLostRefreshResponse's timeouts.
func TestCrashInsideRefresh(t *testing.T) {
	trials := crashTrials(t)
	const lease = time.Minute
	for _, tc := range []struct {
		point string
		// want is the status after recovery, strict and with leeway.
		strict, leeway store.Status
		// sent is how many refresh requests reach the sandbox per trial.
		strictSent, leewaySent int
	}{
		{failpoint.RefreshBeforeJournal, store.StatusActive, store.StatusActive, 1, 1},
		{failpoint.RefreshBeforeSend, store.StatusNeedsReauth, store.StatusActive, 0, 1},
		{failpoint.RefreshAfterReceive, store.StatusNeedsReauth, store.StatusActive, 1, 2},
	} {
		for _, leeway := range []time.Duration{0, 2 * lease} {
			want, sent := tc.strict, tc.strictSent
			if leeway > 0 {
				want, sent = tc.leeway, tc.leewaySent
			}
			t.Run(fmt.Sprintf("%s/leeway=%s", tc.point, leeway), func(t *testing.T) {
				s := strict()
				s.ReuseInterval = leeway
				e := newEnv(t, withSettings(s), withProvider(func(p *provider.Provider) {
					p.RefreshToken.ReuseInterval = provider.Duration(leeway)
				}))
				survivor := e.newBroker("replica-b", -1)
				sweep := refresh.Scheduler{Broker: survivor}
				var armed atomic.Bool
				died := make(chan struct{}, 1)
				defer failpoint.Set(tc.point, func() {
					if armed.CompareAndSwap(true, false) {
						died <- struct{}{}
						runtime.Goexit() // the replica dies here
					}
				})()
				var c store.Connection
				for i := range trials {
					// Each trial drops the last trial's connection from
					// the store (not at the provider, whose families are
					// counted below), so the sweep has only one to settle.
					if i > 0 {
						if err := e.st.DeleteConnection(t.Context(), c.ID); err != nil {
							t.Fatal(err)
						}
					}
					c = e.connect(t.Context())
					before := e.tokenRequests("refresh_token")
					e.expire()
					armed.Store(true)
					// The caller waits for a refresh that never ends; give up
					// once the replica died.
					ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
					go func() {
						select {
						case <-died:
						case <-ctx.Done():
						}
						cancel()
					}()
					_, err := e.b.Token(ctx, c.ID)
					cancel()
					if err == nil || armed.Load() {
						t.Fatalf("trial %d: the refresh did not stop at %s (err %v)", i, tc.point, err)
					}
					e.clk.Advance(lease + time.Second)
					sweep.Sweep(t.Context())
					got, gerr := e.st.GetConnection(t.Context(), c.ID)
					if gerr != nil {
						t.Fatal(gerr)
					}
					if got.Status != want {
						t.Fatalf("trial %d: status after one sweep = %s (%s), want %s", i, got.Status, got.LastError, want)
					}
					if n := e.settledTokenRequests("refresh_token", before+sent) - before; n != sent {
						t.Errorf("trial %d: %d refresh requests reached the provider, want %d", i, n, sent)
					}
					switch got.Status {
					case store.StatusActive:
						if got.RefreshAttempt != "" {
							t.Errorf("trial %d: active with journal entry %q", i, got.RefreshAttempt)
						}
						tok, err := survivor.Token(t.Context(), c.ID)
						if err != nil {
							t.Fatalf("trial %d: Token after recovery = %v", i, err)
						}
						e.assertAccepted(tok.AccessToken)
					case store.StatusNeedsReauth:
						if got.RefreshAttempt == "" {
							t.Errorf("trial %d: needs_reauth without a journal entry", i)
						}
						// Never retried blindly: later sweeps send nothing.
						n := e.tokenRequests("refresh_token")
						e.clk.Advance(time.Hour)
						sweep.Sweep(t.Context())
						if m := e.tokenRequests("refresh_token"); m != n {
							t.Errorf("trial %d: %d refresh requests after needs_reauth", i, m-n)
						}
					}
				}
				st := e.sb.Stats().Providers["pax8"]
				if st.RefreshReuseDetected != 0 || st.FamiliesRevoked != 0 {
					t.Errorf("sandbox saw %d reuses and revoked %d families over %d crashes; want 0, 0", st.RefreshReuseDetected, st.FamiliesRevoked, trials)
				}
			})
		}
	}
}

// TestStalledReplicaStoresLateAnswer is RT-09 in one process: the replica
// refreshing a connection stalls after the provider answered, past its
// lease. Another replica gives the refresh up for lost (strict provider:
// needs_reauth, nothing sent). When the stalled replica resumes, its answer
// holds the only live refresh token, and it is stored: the write is fenced
// on the journal's attempt, not the lease. At no time are two refreshes
// with one refresh token sent.
func TestStalledReplicaStoresLateAnswer(t *testing.T) {
	e := newEnv(t)
	survivor := e.newBroker("replica-b", -1)
	c := e.connect(t.Context())
	e.expire()
	stalled, resume := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	defer failpoint.Set(failpoint.RefreshAfterReceive, func() {
		if once.CompareAndSwap(false, true) {
			close(stalled)
			<-resume
		}
	})()
	done := make(chan error, 1)
	go func() {
		_, err := e.b.Token(context.Background(), c.ID)
		done <- err
	}()
	<-stalled
	e.clk.Advance(2 * time.Minute) // past the lease
	if _, err := survivor.Token(t.Context(), c.ID); broker.CodeOf(err) != broker.CodeNeedsReauth {
		t.Fatalf("Token on the other replica = %v, want needs_reauth (answer lost, leeway 0)", err)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatalf("the stalled replica's Token = %v, want its late answer stored", err)
	}
	got, _ := e.st.GetConnection(t.Context(), c.ID)
	if got.Status != store.StatusActive || got.RefreshAttempt != "" {
		t.Fatalf("after the late answer: status %s journal %q; want active, cleared", got.Status, got.RefreshAttempt)
	}
	tok, err := survivor.Token(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.assertAccepted(tok.AccessToken)
	if n := e.tokenRequests("refresh_token"); n != 1 {
		t.Errorf("refresh requests = %d, want 1", n)
	}
	if st := e.sb.Stats().Providers["pax8"]; st.RefreshReuseDetected != 0 {
		t.Errorf("reuse detected %d, want 0", st.RefreshReuseDetected)
	}
	// The next refresh uses the late answer's refresh token.
	e.expire()
	if _, err := survivor.Token(t.Context(), c.ID); err != nil {
		t.Fatalf("next refresh = %v", err)
	}
}

// assertAccepted checks the sandbox's userinfo endpoint accepts token.
func (e *env) assertAccepted(token string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodGet, e.ep.UserinfoURL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Errorf("userinfo with the token = %d, want 200", resp.StatusCode)
	}
}
