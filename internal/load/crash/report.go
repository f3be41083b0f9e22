package crash

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/grantd/grantd/internal/table"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func PrintReport(w io.Writer, rep *Report, bin string) error {
	if rep.Mode == "stall" {
		fmt.Fprintf(w, "RT-09: replica A stopped (SIGSTOP) for %s with its refresh in flight, %d trials per leeway, on %s (%s)\n", rep.Stall, rep.TrialsPerCase, rep.Database, bin)
	} else {
		fmt.Fprintf(w, "RT-04: replica A killed (SIGKILL) inside a refresh, %d trials per point and leeway, on %s (%s)\n", rep.TrialsPerCase, rep.Database, bin)
	}
	tb := table.New(w, "point", "leeway", "trials", "recovered", "flagged", "corrupt", "reuse", "refreshes A/B", "settle p50 ms", "settle max ms", "want", "result")
	for _, cc := range rep.Cases {
		result := "ok"
		if !cc.Passed {
			result = "FAIL"
		}
		tb.Row(cc.Point, cc.Leeway, strconv.Itoa(cc.Trials), strconv.Itoa(cc.Recovered), strconv.Itoa(cc.Flagged), strconv.Itoa(cc.Corrupt),
			strconv.Itoa(cc.ReuseDetected), fmt.Sprintf("%d/%d", cc.RefreshesByA, cc.RefreshesByB),
			fmt.Sprintf("%.0f", cc.SettleP50Ms), fmt.Sprintf("%.0f", cc.SettleMaxMs), cc.Want, result)
	}
	if err := tb.Flush(); err != nil {
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
