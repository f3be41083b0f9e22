package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/grantd/grantd/internal/failpoint"
)

// The refresh settings of the two replicas of `grantd load crash`.
// Replica B settles interrupted refreshes quickly; replica A, the one that
// dies, never sweeps on its own, and in the stall scenario holds a lease
// that outlives its HTTP timeout.
const (
	crashRefreshB     = "{interval: 200ms, timeout: 1s, lease_ttl: 2s, min_forced_interval: 0s}"
	crashRefreshA     = "{interval: 1h, timeout: 1s, lease_ttl: 2s, min_forced_interval: 0s}"
	crashRefreshStall = "{interval: 1h, timeout: 1s, lease_ttl: 10s, min_forced_interval: 0s}"
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
