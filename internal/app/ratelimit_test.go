package app

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
)

// limitedStack starts grantd allowing burst failed authentications per
// client address and none back within the test (one per hour), trusting
// the proxies in trusted, with its info logs in logs.
func limitedStack(t *testing.T, burst int, trusted []string) (*stack, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s := startStack(t, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})), func(c *config.Config) {
		c.Server.TrustedProxies = trusted
		c.Server.AccessLog = true
		c.Server.AuthFailureLimit = config.AuthFailureLimit{Burst: burst, Every: config.Duration(time.Hour)}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("grantd's logs:\n%s", logs.String())
		}
	})
	return s, logs
}

// badKey is a well-formed tenant key that no tenant has.
func badKey(i int) string { return "gdk_" + strings.Repeat(string(rune('A'+i)), 43) }

// listConnections sends GET /v1/connections with key (none when empty)
// and the X-Forwarded-For lines in xff, and returns the answer and its body.
func (s *stack) listConnections(t *testing.T, key string, xff ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.publicURL+"/v1/connections", nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for _, v := range xff {
		req.Header.Add("X-Forwarded-For", v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// wantStatus checks the status of GET /v1/connections with key and xff.
func (s *stack) wantStatus(t *testing.T, want int, what, key string, xff ...string) {
	t.Helper()
	resp, body := s.listConnections(t, key, xff...)
	if resp.StatusCode != want {
		t.Errorf("%s (X-Forwarded-For %q) = %d, want %d; body %s", what, xff, resp.StatusCode, want, body)
	}
}

// wantLimited checks that GET /v1/connections with key and xff is
// refused as grantd's API refuses: 429, a Retry-After within the hour and
// the one error shape.
func (s *stack) wantLimited(t *testing.T, what, key string, xff ...string) {
	t.Helper()
	resp, body := s.listConnections(t, key, xff...)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("%s (X-Forwarded-For %q) = %d, want 429; body %s", what, xff, resp.StatusCode, body)
		return
	}
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 || n > 3600 {
		t.Errorf("%s: Retry-After = %q, want 1 to 3600 seconds", what, resp.Header.Get("Retry-After"))
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != "rate_limited" || e.Error.Message == "" ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: body %s (%s), want the API's JSON error with code rate_limited", what, body, resp.Header.Get("Content-Type"))
	}
}

// TestSpoofedForwardedForKeepsBucketSEC53: grantd trusts no proxy, so a
// loopback caller that has used up its failed authentications stays
// limited whatever X-Forwarded-For (or Forwarded, X-Real-IP) it claims,
// with a valid key too, and the logs name it by its real address (SEC-53).
func TestSpoofedForwardedForKeepsBucketSEC53(t *testing.T) {
	s, logs := limitedStack(t, 3, nil)
	for i := range 3 {
		s.wantStatus(t, http.StatusUnauthorized, "failure "+strconv.Itoa(i+1), badKey(i), "203.0.113."+strconv.Itoa(i+1))
	}
	s.wantLimited(t, "bad key after the burst", badKey(5))
	s.wantLimited(t, "bad key with a spoofed client", badKey(6), "203.0.113.99")
	s.wantLimited(t, "valid key with a spoofed client", s.apiKey, "198.51.100.7")
	s.wantLimited(t, "valid key with a spoofed chain", s.apiKey, "198.51.100.7, 192.0.2.1", "203.0.113.4")

	for _, h := range []http.Header{{"Forwarded": {"for=198.51.100.8"}}, {"X-Real-Ip": {"198.51.100.8"}}, {"True-Client-Ip": {"198.51.100.8"}}} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.publicURL+"/v1/connections", nil)
		req.Header = h
		req.Header.Set("Authorization", "Bearer "+s.apiKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("valid key with %v = %d, want 429", h, resp.StatusCode)
		}
	}

	// The pages and health checks are not behind the limit.
	resp, err := http.Get(s.publicURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz while limited = %d, want 200", resp.StatusCode)
	}

	out := logs.String()
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, `msg="http request"`) && strings.Contains(line, "path=/v1/connections") &&
			!strings.Contains(line, "client_ip=127.0.0.1") {
			t.Errorf("access log line without the real client address: %s", line)
		}
	}
	if !strings.Contains(out, "method=GET path=/v1/connections status=429") {
		t.Error("no access log line for a refused request")
	}
	for _, spoofed := range []string{"203.0.113.", "198.51.100.", "192.0.2.1", "peer="} {
		if strings.Contains(out, spoofed) {
			t.Errorf("the logs repeat the spoofed %q", spoofed)
		}
	}
}

// TestTrustedProxyForwardedForSEC53: with loopback configured as a trusted
// proxy, the client named by X-Forwarded-For has its own bucket: one client
// using up its failures leaves another, and the proxy itself, untouched; a
// forged address left of the client changes nothing; and successful
// requests spend nothing (SEC-53).
func TestTrustedProxyForwardedForSEC53(t *testing.T) {
	s, logs := limitedStack(t, 3, []string{"127.0.0.1/32"})
	const a, b = "203.0.113.10", "203.0.113.20"
	for i := range 3 {
		s.wantStatus(t, http.StatusUnauthorized, "client A failure "+strconv.Itoa(i+1), badKey(i), a)
	}
	s.wantLimited(t, "client A with a valid key", s.apiKey, a)
	s.wantLimited(t, "client A behind a forged left part", s.apiKey, "198.51.100.1, "+a)
	s.wantLimited(t, "client A through a second line", s.apiKey, "198.51.100.1", a)

	s.wantStatus(t, http.StatusUnauthorized, "client B failure", badKey(3), b)
	for i := range 5 {
		s.wantStatus(t, http.StatusOK, "client B valid request "+strconv.Itoa(i+1), s.apiKey, b)
	}
	s.wantStatus(t, http.StatusUnauthorized, "client B failure 2", badKey(4), b)
	s.wantStatus(t, http.StatusOK, "the proxy's own request", s.apiKey)

	out := logs.String()
	if !strings.Contains(out, "status=429") || !strings.Contains(out, "client_ip="+a+" peer=127.0.0.1") {
		t.Error("the access log does not name client A behind its proxy")
	}
	if !strings.Contains(out, "client_ip="+b+" peer=127.0.0.1") {
		t.Error("the access log does not name client B behind its proxy")
	}
	if strings.Contains(out, "client_ip=198.51.100.1") {
		t.Error("the access log names the forged address")
	}
}

// TestMalformedForwardedForSEC53: from a trusted proxy, a malformed
// X-Forwarded-For is not believed: the request counts as the proxy's own,
// whatever garbage it carries, and never as the address beyond the
// garbage (SEC-53).
func TestMalformedForwardedForSEC53(t *testing.T) {
	s, _ := limitedStack(t, 3, []string{"127.0.0.1/32"})
	malformed := []string{"not-an-ip", "203.0.113.30, bogus", "203.0.113.0/24"}
	for i, xff := range malformed {
		s.wantStatus(t, http.StatusUnauthorized, "malformed failure "+strconv.Itoa(i+1), badKey(i), xff)
	}
	// All three spent the proxy's bucket.
	s.wantLimited(t, "the proxy's own request", s.apiKey)
	s.wantLimited(t, "other garbage", s.apiKey, "unknown")
	s.wantLimited(t, "a client hidden behind garbage", s.apiKey, "203.0.113.31, ???")
	// The clients named before the garbage were never charged.
	s.wantStatus(t, http.StatusOK, "a well-formed client", s.apiKey, "203.0.113.30")
}

// TestLoggedPath, and TestAccessLogMasksEveryPathForm (issue 7 §8): the
// token of a connect or mapping link is masked in every spelling of its
// path: doubled slashes, trailing segments, case, backslashes and
// percent-encoding, once or twice over.
func TestLoggedPath(t *testing.T) {
	for in, want := range map[string]string{
		"//connect/secret-link-token":           "//connect/{token}",
		"///connect/secret-link-token/start":    "///connect/{token}/start",
		"/connect//secret-link-token":           "/connect//{token}",
		"/connect/secret-link-token/":           "/connect/{token}/",
		"/connect/secret-link-token/start/more": "/connect/{token}/start/more",
		"/CONNECT/secret-link-token":            "/CONNECT/{token}",
		"/./connect/secret-link-token":          "/./connect/{token}",
		"/x/../connect/secret-link-token":       "/x/../connect/{token}",
		`\connect\secret-link-token`:            `\connect\{token}`,
		"/connect%2Fsecret-link-token":          "/connect/{token}",
		"/connect%252Fsecret-link-token":        "/connect/{token}",
		"/%63onnect/secret-link-token":          "/connect/{token}",
		"/connect/secret%2Dlink%2Dtoken":        "/connect/{token}",
		"/connect/bad%zzsecret-link-token":      "/connect/{token}",
		"//mappings/secret-mapping-token":       "//mappings/{token}",
		"/mappings%2Fsecret-mapping-token":      "/mappings/{token}",
		"/mappings/secret-mapping-token/save":   "/mappings/{token}/save",
		"/v1/connect-sessions":                  "/v1/connect-sessions",
		"/v1/connections/conn_1":                "/v1/connections/conn_1",
		"/":                                     "/",
	} {
		if got := loggedPath(in); got != want || strings.Contains(got, "secret") {
			t.Errorf("loggedPath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"/v1/connections":                     "/v1/connections",
		"/connect/secret-link-token":          "/connect/{token}",
		"/connect/secret-link-token/start":    "/connect/{token}/start",
		"/connect/":                           "/connect/",
		"/mappings/secret-mapping-token":      "/mappings/{token}",
		"/oauth/callback/pax8-main":           "/oauth/callback/pax8-main",
		"/" + strings.Repeat("a", 300):        "/" + strings.Repeat("a", 255) + "…",
		"/v1/connections/conn_1/org-mappings": "/v1/connections/conn_1/org-mappings",
	} {
		if got := loggedPath(in); got != want {
			t.Errorf("loggedPath(%.40q) = %.40q, want %.40q", in, got, want)
		}
	}
}

// TestAccessLogMasksLinkTokens walks a connect link and checks that the
// access log has the request without the link's token.
func TestAccessLogMasksLinkTokens(t *testing.T) {
	s, logs := limitedStack(t, 20, nil)
	link := s.connectSession(t, nil)
	s.startConnect(t, link, nil)
	token := link[strings.LastIndex(link, "/")+1:]
	out := logs.String()
	if !strings.Contains(out, "path=/connect/{token}/start") {
		t.Errorf("no access log line for the connect button")
	}
	if strings.Contains(out, token) {
		t.Errorf("the logs contain the connect link's token")
	}
}

// TestAccessLogOffByDefault: without server.access_log, requests leave no
// access-log line even at info level (the log costs throughput; see
// BENCHMARKS.md), while the failed-authentication limit still keys on the
// client address.
func TestAccessLogOffByDefault(t *testing.T) {
	logs := &syncBuffer{}
	s := startStack(t, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	s.connectSession(t, nil)
	if resp, _ := s.listConnections(t, badKey(1)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad key = %d, want 401", resp.StatusCode)
	}
	if strings.Contains(logs.String(), `msg="http request"`) {
		t.Errorf("access-log lines without server.access_log:\n%s", logs.String())
	}
}
