package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/tenant"
)

// Shape of TestPostgresRestartUnderLoad.
const (
	restartConns   = 3
	restartWorkers = 6
	restartPause   = 20 * time.Millisecond // between two requests of a worker
	restartDown    = 3 * time.Second
	// restartSettle is how long after the cut requests may still meet a
	// connection that was open when the server went away; after it, every
	// request must get the stable 503.
	restartSettle = 1500 * time.Millisecond
)

// refreshesArrived counts the refresh_token grant requests that have
// reached the sandbox, answered or not.
func (s *stack) refreshesArrived() int {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	n := 0
	for _, b := range s.rec.arrived {
		if bytes.Contains(b, []byte(`"grant_type":"refresh_token"`)) || bytes.Contains(b, []byte("grant_type=refresh_token")) {
			n++
		}
	}
	return n
}

// outcome is one API answer during the load.
type outcome struct {
	at, end    time.Time // sent, answered
	method     string
	status     int
	code       string
	retryAfter string
}

// TestPostgresRestartUnderLoad runs the served grantd on PostgreSQL
// through a loopback forwarder, under a bounded load of token requests and
// forced refreshes (min_forced_interval 1s, so refreshes keep reaching the
// provider) for three connections, and takes the database away for 3 s:
// every forwarded connection is cut and new ones are refused, as when the
// server restarts. The shared server itself is never touched. While it is
// away, the API answers 503 database_unavailable with Retry-After;
// afterwards grantd recovers by itself (requests succeed again without a
// restart), no connection changed status, and every connection's token is
// accepted by the sandbox's userinfo endpoint: no grant lost, even for a
// refresh whose answer arrived while the database was away.
func TestPostgresRestartUnderLoad(t *testing.T) {
	dsn := storetest.NewPostgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	fw := newForwarder(t, u.Host)
	u.Host = fw.Addr()
	q := u.Query()
	// Fail fast while the database is away rather than wait for pgx's
	// default connect timeout.
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()

	s := startStack(t, testLogger(t), func(c *config.Config) {
		c.Database = u.String()
		c.TokenCacheTTL = 0 // every token request reads the database
		c.Refresh.MinForcedInterval = config.Duration(time.Second)
	})
	type conn struct{ id, key string }
	conns := []conn{{id: s.connect(t), key: s.apiKey}}
	for i := 1; i < restartConns; i++ {
		other := *s
		tn, key, err := tenant.Create(t.Context(), s.app.Store(), fmt.Sprintf("MSP %d", i), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		other.tenantID, other.apiKey = tn.ID, key
		conns = append(conns, conn{id: other.connect(t), key: key})
	}

	hc := &http.Client{Timeout: 15 * time.Second}
	do := func(c conn, method, path string) outcome {
		req, _ := http.NewRequestWithContext(t.Context(), method, s.publicURL+path, nil)
		req.Header.Set("Authorization", "Bearer "+c.key)
		o := outcome{at: time.Now(), method: method}
		resp, err := hc.Do(req)
		if err != nil {
			o.code, o.end = "transport: "+err.Error(), time.Now()
			return o
		}
		defer resp.Body.Close()
		var e errorAnswer
		json.NewDecoder(resp.Body).Decode(&e)
		o.status, o.code, o.retryAfter = resp.StatusCode, e.Error.Code, resp.Header.Get("Retry-After")
		o.end = time.Now()
		return o
	}

	var mu sync.Mutex
	var got []outcome
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range restartWorkers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(restartPause):
				}
				c := conns[(w+i)%len(conns)]
				var o outcome
				if (i+w)%5 == 4 {
					o = do(c, http.MethodPost, "/v1/connections/"+c.id+"/refresh")
				} else {
					o = do(c, http.MethodGet, "/v1/connections/"+c.id+"/token")
				}
				mu.Lock()
				got = append(got, o)
				mu.Unlock()
			}
		})
	}

	time.Sleep(time.Second)
	// Cut the database while a refresh is in flight: the provider's answer,
	// with a rotated refresh token, arrives while the database is away.
	sent := s.refreshesArrived()
	if err := s.sandbox.AddFault(sandbox.Fault{Provider: sandbox.Pax8, Endpoint: "token", Kind: "slow",
		GrantType: "refresh_token", Delay: restartDown / 2}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); s.refreshesArrived() == sent; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no forced refresh reached the sandbox within 10 s")
		}
	}
	down := time.Now()
	fw.Down()
	time.Sleep(restartDown)
	up := time.Now()
	fw.Up()
	// Recovered: a request of every connection succeeds again.
	recovered := time.Time{}
	for deadline := time.Now().Add(20 * time.Second); recovered.IsZero() && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ok := true
		for _, c := range conns {
			if o := do(c, http.MethodGet, "/v1/connections/"+c.id+"/token"); o.status != http.StatusOK {
				ok = false
			}
		}
		if ok {
			recovered = time.Now()
		}
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if recovered.IsZero() {
		t.Fatalf("grantd did not recover within 20 s after the database came back")
	}
	t.Logf("database away %v; grantd answered again %v after it came back", up.Sub(down).Round(time.Millisecond), recovered.Sub(up).Round(time.Millisecond))

	// What the API answered, by phase.
	counts := map[string]map[string]int{}
	count := func(phase string, o outcome) {
		if counts[phase] == nil {
			counts[phase] = map[string]int{}
		}
		counts[phase][fmt.Sprintf("%s %d %s", o.method, o.status, o.code)]++
	}
	for _, o := range got {
		switch {
		case o.end.Before(down):
			count("before", o)
			if o.status != http.StatusOK && !(o.status == http.StatusTooManyRequests && o.code == "refresh_throttled") {
				t.Errorf("before the restart: %s = %d %s, want 200 (or a throttled forced refresh)", o.method, o.status, o.code)
			}
		case o.at.Before(down.Add(restartSettle)):
			// In flight at the cut, or meeting a connection the cut
			// closed: any answer but a lost grant, checked below.
			count("cut", o)
		case o.end.Before(up):
			count("down", o)
			ra, err := strconv.Atoi(o.retryAfter)
			if o.status != http.StatusServiceUnavailable || o.code != "database_unavailable" || err != nil || ra < 1 {
				t.Errorf("database away: %s = %d %q Retry-After %q, want 503 database_unavailable with Retry-After", o.method, o.status, o.code, o.retryAfter)
			}
		case o.at.After(recovered):
			count("after", o)
			if o.status != http.StatusOK && !(o.status == http.StatusTooManyRequests && o.code == "refresh_throttled") {
				t.Errorf("after recovery: %s = %d %s, want 200 (or a throttled forced refresh)", o.method, o.status, o.code)
			}
		default:
			count("recovering", o)
		}
	}
	t.Logf("answers by phase: %v", counts)
	if len(counts["down"]) == 0 || len(counts["after"]) == 0 {
		t.Errorf("the load sent no request while the database was away or after it came back: %v", counts)
	}

	// No grant lost: every connection is active and its current token
	// works at the vendor.
	for _, c := range conns {
		row, err := s.app.Store().GetConnection(t.Context(), c.id)
		if err != nil {
			t.Fatalf("GetConnection %s: %v", c.id, err)
		}
		if row.Status != store.StatusActive {
			t.Errorf("connection %s is %s (%s) after the restart, want active", c.id, row.Status, row.LastError)
			continue
		}
		var tok tokenAnswer
		other := *s
		other.apiKey = c.key
		if st := other.call(t, http.MethodGet, "/v1/connections/"+c.id+"/token", nil, &tok, nil); st != http.StatusOK {
			t.Errorf("GET token of %s after the restart = %d", c.id, st)
			continue
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.endpoints.UserinfoURL, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("userinfo with the token of %s after the restart = %d, want 200", c.id, resp.StatusCode)
		}
	}
	ps := s.sandbox.Stats().Providers["pax8"]
	if ps.RefreshReuseDetected != 0 || ps.FamiliesRevoked != 0 {
		t.Errorf("sandbox saw %d refresh-token reuses and revoked %d families, want 0", ps.RefreshReuseDetected, ps.FamiliesRevoked)
	}
	t.Logf("refresh requests at the sandbox: %v", ps.TokenRequests["refresh_token"])
}
