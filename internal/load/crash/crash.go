package crash

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/failpoint"
	"github.com/grantd/grantd/internal/load/fleet"
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
	// LeaseStall is replica A's lease in the stall scenario.
	LeaseStall = 10 * time.Second
	// TimeoutA is replica A's refresh timeout.
	TimeoutA = time.Second
	// crashSettleLimit bounds the wait for a trial to settle.
	crashSettleLimit = 15 * time.Second
)

// Report is the outcome of `grantd load crash` (RT-04 and RT-09 of
// the security checklist).
type Report struct {
	Database        string  `json:"database"`
	Mode            string  `json:"mode"` // "failpoint" or "stall"
	Stall           string  `json:"stall,omitempty"`
	TrialsPerCase   int     `json:"trials_per_case"`
	Parallel        int     `json:"parallel"`
	Cases           []*Case `json:"cases"`
	Trials          int     `json:"trials"`
	Corrupt         int     `json:"corrupt"`
	ReuseDetected   int     `json:"reuse_detected"`
	FamiliesRevoked int     `json:"families_revoked"`
	Failed          int     `json:"failed_cases"`
	Elapsed         string  `json:"elapsed"`
}

// Case is one (point, leeway) pair: every trial kills (or stalls)
// replica A at the same point with the same provider reuse interval.
type Case struct {
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
	Results     []*Trial       `json:"results"`
}

// Trial is one crash (or stall) and what became of the connection.
type Trial struct {
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

func ParsePoints(list string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(list, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(failpoint.Names, p) {
			return nil, fmt.Errorf("unknown failpoint %q (known: %s)", p, strings.Join(failpoint.Names, ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

func ParseLeeways(list string) ([]time.Duration, error) {
	var out []time.Duration
	for s := range strings.SplitSeq(list, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("--leeway wants durations such as 0,30s, got %q", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// CheckBinary resolves path and checks it is a failpoint build: such
// a build refuses an unknown GRANTD_FAILPOINT at start-up, while an
// ordinary one ignores the variable and prints its version.
func CheckBinary(ctx context.Context, path string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		path, err = filepath.Abs(path)
		if err != nil {
			return "", err
		}
	} else if path, err = exec.LookPath(path); err != nil {
		return "", fmt.Errorf("--binary: %v", err)
	}
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Env = append(fleet.ChildEnv(), "GRANTD_FAILPOINT=load.crash.probe")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown failpoint") {
		return "", fmt.Errorf("%s is not built with the failpoint tag (go build -tags failpoint -o grantd-fp ./cmd/grantd)", path)
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
