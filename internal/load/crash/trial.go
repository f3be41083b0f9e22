package crash

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/failpoint"
	"github.com/grantd/grantd/internal/load/fleet"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/table"
	"github.com/grantd/grantd/internal/vault"
)

// failpointTrial connects a fresh connection, starts replica A armed at
// point, forces a refresh on A (a fresh token, so B has no reason to
// touch it first), expects A to die of SIGKILL, and watches B settle the
// connection.
func (r *crashRig) failpointTrial(ctx context.Context, point string) (*Trial, error) {
	api, id, rt, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	a, err := r.startReplica(ctx, "a", r.aAddr, r.config(r.aAddr, crashRefreshA), "GRANTD_FAILPOINT="+point)
	if err != nil {
		return nil, err
	}
	before := r.sb.Stats().Providers[sandbox.Pax8]
	t := &Trial{log: r.sent, rt: rt, aLapse: time.Now().Add(crashLeaseA)}
	onA := r.onReplica(a)
	_, err = onA.Refresh(ctx, id, "")
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
func (r *crashRig) stallTrial(ctx context.Context, stall time.Duration) (*Trial, error) {
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
	t := &Trial{log: r.sent, rt: rt, aLapse: time.Now().Add(LeaseStall)}
	arrived := r.sent.await(rt)
	if err := r.sb.AddFault(sandbox.Fault{Kind: "slow", Endpoint: "token", GrantType: "refresh_token", Delay: 300 * time.Millisecond}); err != nil {
		return nil, err
	}
	aDone := make(chan string, 1)
	go func() {
		tok, err := r.onReplica(a).Refresh(ctx, id, "")
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
		tok, err := api.Token(ctx, id)
		if err == nil && fleet.ValidAtSandbox(ctx, r.hc, r.ep.UserinfoURL, tok.AccessToken) != nil {
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
func runTrials(ctx context.Context, worlds []*crashRig, results []*Trial, trial func(context.Context, *crashRig) (*Trial, error), done func(n int, t *Trial)) error {
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

// answer is "token" or the API error code of err.
func answer(tok grantd.Token, err error) string {
	if err == nil {
		if tok.AccessToken == "" {
			return "empty token"
		}
		return "token"
	}
	if ae, ok := errors.AsType[*grantd.Error](err); ok && ae.Code != "" {
		return ae.Code
	}
	return "network error"
}

// judge classifies a settled connection. Recovered: active, its tokens
// open with the vault key, B hands out a token the sandbox accepts, and a
// forced refresh through B works (the stored refresh token is live, not
// consumed). Flagged: needs_reauth with the journal entry kept, and B
// refuses the token. Anything else is corrupt.
func (r *crashRig) judge(ctx context.Context, api *grantd.Client, id string, c store.Connection, settled bool, t *Trial) {
	corrupt := func(format string, args ...any) {
		t.Outcome, t.Detail = "corrupt", fmt.Sprintf(format, args...)
	}
	switch {
	case !settled:
		corrupt("not settled after %s: status %s, journal entry %t, lease until %s", crashSettleLimit, c.Status, c.RefreshAttempt != "", table.Time(c.LeaseExpiresAt))
	case c.Status == store.StatusNeedsReauth && c.RefreshAttempt != "":
		_, err := api.Token(ctx, id)
		if got := answer(grantd.Token{}, err); got != "needs_reauth" {
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
		tok, err := api.Token(ctx, id)
		if err != nil {
			corrupt("active, but B's GET /token answers %s", answer(tok, err))
			return
		}
		if err := fleet.ValidAtSandbox(ctx, r.hc, r.ep.UserinfoURL, tok.AccessToken); err != nil {
			corrupt("active, but %v", err)
			return
		}
		t.verifyAt = time.Now()
		fresh, err := api.Refresh(ctx, id, "")
		if err != nil {
			corrupt("active, but a refresh with the stored refresh token fails: %s", answer(fresh, err))
			return
		}
		if err := fleet.ValidAtSandbox(ctx, r.hc, r.ep.UserinfoURL, fresh.AccessToken); err != nil {
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
func tally(cc *Case, leeway time.Duration) {
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
		if want, ok := crashSends(cc.Point, leeway, t); !ok {
			problems = append(problems, fmt.Sprintf("refresh requests with the trial's token: %d by A, %d by B; want %s", t.ByA, t.ByB, want))
		}
		if len(problems) > 0 {
			cc.Failures = append(cc.Failures, fmt.Sprintf("trial %d: %s", i+1, strings.Join(problems, "; ")))
		}
	}
	cc.SettleP50Ms = fleet.Quantile(settle, 0.5)
	cc.SettleMaxMs = fleet.Quantile(settle, 1)
	cc.Passed = len(cc.Failures) == 0
}

// crashSends says how many refresh requests with the trial's refresh
// token A and B should have sent, and whether t matches. A sends nothing
// before the send, and once from the send on. B sends only to replay,
// once, when the trial recovered from a journal entry. In a stall the
// token is sent once, plus one replay at most when a leeway allows it
// (all counted as A's).
func crashSends(point string, leeway time.Duration, t *Trial) (want string, ok bool) {
	if point == "stall" && leeway > 0 {
		return "1 or 2 by A, 0 by B", (t.ByA == 1 || t.ByA == 2) && t.ByB == 0
	}
	a, b := 1, 0
	switch point {
	case failpoint.RefreshBeforeJournal, failpoint.RefreshBeforeSend:
		a = 0
	}
	if point != "stall" && point != failpoint.RefreshBeforeJournal && t.Outcome == "recovered" {
		b = 1
	}
	return fmt.Sprintf("%d by A, %d by B", a, b), t.ByA == a && t.ByB == b
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
