package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/demo"
	"github.com/grantd/grantd/internal/partner"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/vault"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCmd runs one grantd command line in-process and returns its exit
// status and outputs.
func runCmd(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr syncBuffer
	code := run(t.Context(), args, &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }})
	return code, stdout.String(), stderr.String()
}

func TestDemoHeadless(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil, "demo", "--headless", "--json")
	if code != 0 {
		t.Fatalf("grantd demo --headless = exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var got demo.Report
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("demo output is not JSON: %v\n%s", err, stdout)
	}
	if !got.OK || got.Partner == nil || got.Partner.Email != "partner@example-msp.test" {
		t.Errorf("demo report: ok %v partner %+v; want ok with partner@example-msp.test\n%s", got.OK, got.Partner, stdout)
	}
	if got.Connection == nil || got.Connection.Status != "active" || got.Connection.ExpiresIn <= 0 {
		t.Errorf("demo connection = %+v, want an active connection with a live token", got.Connection)
	}
	if strings.Contains(stdout, "access_token") {
		t.Error("demo output contains an access token")
	}
}

func TestDemoHeadlessText(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil, "demo", "--headless", "--dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"partner@example-msp.test", "Ava Partner", "status active", "OK:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	// Each start-up step is announced on stderr, in order, so a first
	// run is never silent.
	last := -1
	for _, want := range []string{"grantd demo: starting the sandbox", "grantd demo: sandbox listening on http://127.0.0.1:",
		"grantd demo: opening the database", "grantd demo: grantd listening on http://127.0.0.1:", "grantd demo: ready"} {
		i := strings.Index(stderr, want)
		if i < 0 || i < last {
			t.Errorf("stderr lacks %q after the previous step:\n%s", want, stderr)
		}
		last = i
	}
	if strings.Contains(stdout, "grantd demo:") {
		t.Errorf("progress lines on stdout:\n%s", stdout)
	}
}

// TestRemoteCommands drives connect, connections and token against a
// running demo, with a scripted partner completing the link that connect
// prints.
func TestRemoteCommands(t *testing.T) {
	d, err := demo.Start(t.Context(), demo.Options{Listen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0", Logs: t.Output()})
	if err != nil {
		t.Fatalf("startDemo: %v", err)
	}
	defer d.Close()
	vars := map[string]string{"GRANTD_URL": d.PublicURL, "GRANTD_API_KEY": d.APIKey}

	code, stdout, _ := runCmd(t, vars, "connections", "--json")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("connections before connecting = %d %q, want 0 []", code, stdout)
	}

	// connect prints the link, then waits; the partner follows the link.
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		code := run(t.Context(), []string{"connect", "--provider", "pax8", "--timeout", "30s",
			"--tag", "eu", "--tag", "gold", "--end-user-id", "u-7", "--end-user-email", "ops@example-app.test"},
			&env{stdout: pw, stderr: &stderr, getenv: func(k string) string { return vars[k] }})
		pw.Close()
		done <- code
	}()
	lines := bufio.NewScanner(pr)
	var linkURL string
	for linkURL == "" && lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "  "); ok && strings.HasPrefix(u, "http") {
			linkURL = u
		}
	}
	if linkURL == "" {
		t.Fatalf("connect printed no link; stderr: %s", stderr.String())
	}
	partnerConnects(t, d, linkURL)
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	if code := <-done; code != 0 {
		t.Fatalf("connect = exit %d\n%s", code, stderr.String())
	}
	m := regexp.MustCompile(`Connected: (\S+) \(pax8, active\) as partner@example-msp.test`).FindStringSubmatch(rest.String())
	if m == nil {
		t.Fatalf("connect printed %q, want the active connection of partner@example-msp.test", rest.String())
	}
	conn := grantd.Connection{ID: m[1]}

	code, stdout, errOut := runCmd(t, vars, "connections")
	if code != 0 || !strings.Contains(stdout, conn.ID) || !strings.Contains(stdout, "active") {
		t.Errorf("connections = %d\n%s%s; want a table row for %s", code, stdout, errOut, conn.ID)
	}
	code, stdout, errOut = runCmd(t, vars, "connections", "--tag", "gold", "--json")
	var tagged []grantd.Connection
	if code != 0 || json.Unmarshal([]byte(stdout), &tagged) != nil || len(tagged) != 1 || tagged[0].ID != conn.ID ||
		!slices.Equal(tagged[0].Tags, []string{"eu", "gold"}) || tagged[0].EndUser != (grantd.EndUser{ID: "u-7", Email: "ops@example-app.test"}) {
		t.Errorf("connections --tag gold = %d %q %s; want %s with its tags and end user", code, stdout, errOut, conn.ID)
	}
	code, stdout, _ = runCmd(t, vars, "connections", "--tag", "silver")
	if code != 0 || strings.TrimSpace(stdout) != "no connections match" {
		t.Errorf("connections --tag silver = %d %q, want none", code, stdout)
	}
	code, stdout, errOut = runCmd(t, vars, "token", conn.ID, "--json")
	var tok grantd.Token
	if code != 0 || json.Unmarshal([]byte(stdout), &tok) != nil || tok.AccessToken == "" || tok.ExpiresAt.IsZero() {
		t.Errorf("token --json = %d %q %s; want a token with its expiry", code, stdout, errOut)
	}
	code, stdout, _ = runCmd(t, vars, "token", conn.ID)
	if code != 0 || strings.TrimSpace(stdout) != tok.AccessToken {
		t.Errorf("token = %d %q, want the bare access token", code, stdout)
	}
	code, _, errOut = runCmd(t, vars, "token", "con_missing")
	if code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("token for a missing connection = %d %q, want exit 1 with not_found", code, errOut)
	}
	code, _, errOut = runCmd(t, map[string]string{"GRANTD_URL": d.PublicURL, "GRANTD_API_KEY": "gdk_wrong"}, "connections")
	if code != 1 || !strings.Contains(errOut, "unauthorized") {
		t.Errorf("connections with a wrong key = %d %q, want exit 1 with unauthorized", code, errOut)
	}
	// Nobody follows this link: the error names the flag that gave up,
	// not "context deadline exceeded".
	code, _, errOut = runCmd(t, vars, "connect", "--provider", "pax8", "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "--timeout 1s") || strings.Contains(errOut, "deadline exceeded") {
		t.Errorf("connect that times out = %d %q, want exit 1 naming --timeout 1s", code, errOut)
	}
	connectionLifecycle(t, d, vars, conn.ID)
}

// connectionLifecycle drives the commands on one connection: the list
// with its integration and --status, refresh, events, integrations,
// needs_reauth with its exit status and next step, and disconnect.
func connectionLifecycle(t *testing.T, d *demo.Demo, vars map[string]string, id string) {
	code, stdout, errOut := runCmd(t, vars, "connections")
	if code != 0 || !strings.Contains(stdout, "INTEGRATION") || !strings.Contains(stdout, "LAST ERROR") || !strings.Contains(stdout, demo.IntegrationID) {
		t.Errorf("connections = %d\n%s%s; want integration and last-error columns", code, stdout, errOut)
	}
	code, stdout, _ = runCmd(t, vars, "connections", "--status", "needs_reauth", "--output", "json")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("connections --status needs_reauth = %d %q, want 0 []", code, stdout)
	}
	code, _, errOut = runCmd(t, vars, "connections", "--status", "sleeping")
	if code != 2 || !strings.Contains(errOut, "--status must be one of") {
		t.Errorf("connections --status sleeping = %d %q, want a usage error", code, errOut)
	}

	code, stdout, errOut = runCmd(t, vars, "refresh", id, "--output", "json")
	var fresh grantd.Token
	if code != 0 || json.Unmarshal([]byte(stdout), &fresh) != nil || fresh.AccessToken == "" {
		t.Errorf("refresh = %d %q %s; want a new token", code, stdout, errOut)
	}
	code, stdout, errOut = runCmd(t, vars, "events", id)
	if code != 0 || !strings.Contains(stdout, "connected") || !strings.Contains(stdout, "refreshed") {
		t.Errorf("events = %d\n%s%s; want connected and refreshed", code, stdout, errOut)
	}
	code, stdout, errOut = runCmd(t, vars, "integrations")
	if code != 0 || !strings.Contains(stdout, demo.IntegrationID) {
		t.Errorf("integrations = %d\n%s%s; want %s", code, stdout, errOut, demo.IntegrationID)
	}

	code, _, errOut = runCmd(t, vars, "refresh", id)
	if code != 1 || !strings.Contains(errOut, "refresh_throttled") {
		t.Errorf("a second forced refresh at once = %d %q, want exit 1 with refresh_throttled", code, errOut)
	}

	// A second connection, whose refresh token the provider refuses: the
	// forced refresh turns it needs_reauth, and the CLI says what to do.
	api, err := grantd.NewClient(d.PublicURL, d.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	link, err := api.CreateConnectSession(t.Context(), grantd.ConnectSessionRequest{IntegrationID: demo.IntegrationID})
	if err != nil {
		t.Fatal(err)
	}
	partnerConnects(t, d, link.URL)
	all, err := api.Connections(t.Context(), grantd.ListOptions{})
	if err != nil || len(all) != 2 {
		t.Fatalf("Connections = %d, %v; want 2", len(all), err)
	}
	stale := all[0].ID
	if stale == id {
		stale = all[1].ID
	}
	if err := d.Sandbox.AddFault(sandbox.Fault{Kind: "invalid_grant", Endpoint: "token", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut = runCmd(t, vars, "refresh", stale)
	if code != 3 || stdout != "" || !strings.Contains(errOut, "needs_reauth") || !strings.Contains(errOut, "grantd connect --connection "+stale) {
		t.Errorf("refresh refused by the provider = %d %q %q; want exit 3 and the ReAuthorize next step", code, stdout, errOut)
	}
	code, stdout, errOut = runCmd(t, vars, "token", stale)
	if code != 3 || stdout != "" || !strings.Contains(errOut, "grantd connect --connection "+stale) {
		t.Errorf("token of a needs_reauth connection = %d %q %q; want exit 3 and the ReAuthorize next step", code, stdout, errOut)
	}
	code, stdout, _ = runCmd(t, vars, "connections", "--status", "needs_reauth", "--json")
	if code != 0 || !strings.Contains(stdout, stale) || strings.Contains(stdout, id) {
		t.Errorf("connections --status needs_reauth = %d %q, want only %s", code, stdout, stale)
	}
	code, stdout, errOut = runCmd(t, vars, "connect", "--connection", stale, "--timeout", "1s")
	if code != 1 || !strings.Contains(stdout, "/connect/") {
		t.Errorf("connect --connection = %d %q %q; want a ReAuthorize link, then a timeout", code, stdout, errOut)
	}

	code, stdout, errOut = runCmd(t, vars, "disconnect", id, "--json")
	if code != 0 || !strings.Contains(stdout, `"id": "`+id+`"`) {
		t.Errorf("disconnect = %d %q %s", code, stdout, errOut)
	}
	code, _, errOut = runCmd(t, vars, "events", id)
	if code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("events after disconnect = %d %q, want not_found", code, errOut)
	}
}

// partnerConnects plays the partner on a connect link, over plain HTTP.
func partnerConnects(t *testing.T, d *demo.Demo, linkURL string) {
	t.Helper()
	if err := partner.Connect(t.Context(), linkURL, d.PublicURL, d.Partner, nil); err != nil {
		t.Fatal(err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: grantd <command>"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"keys"}, 2, "keys generate"},
		{[]string{"keys", "generate", "--id", "0"}, 2, "--id must be"},
		{[]string{"token"}, 2, "exactly one connection id"},
		{[]string{"connections"}, 2, "GRANTD_URL"},
		{[]string{"connections", "--server", "http://127.0.0.1:1"}, 2, "GRANTD_API_KEY"},
		{[]string{"connect", "--server", "http://127.0.0.1:1", "--key", "k"}, 2, "--provider"},
		{[]string{"serve", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"demo", "--listen", "0.0.0.0:0"}, 2, "not loopback"},
		{[]string{"tenants", "create"}, 2, "exactly one tenant name"},
		{[]string{"sandbox", "--client-id", "x"}, 2, "go together"},
		{[]string{"sandbox", "--token-rate-limit", "-1"}, 2, "must not be negative"},
	} {
		code, stdout, stderr := runCmd(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("grantd %q = exit %d, output %q; want exit %d mentioning %q", tc.args, code, stdout+stderr, tc.code, tc.want)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, stdout, _ := runCmd(t, nil, "help")
	if code != 0 {
		t.Errorf("help = exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(stdout, c.name) {
			t.Errorf("help does not list %s", c.name)
		}
	}
	for _, want := range []string{"exit status:", "  2  usage error", "  3  the connection needs the tenant"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help does not say %q:\n%s", want, stdout)
		}
	}
	// Flag help: each default once, the environment named once.
	code, _, stderr := runCmd(t, map[string]string{"GRANTD_URL": "http://127.0.0.1:9"}, "connections", "-h")
	if code != 0 || strings.Count(stderr, "GRANTD_URL") != 1 || strings.Contains(stderr, "127.0.0.1:9") || strings.Count(stderr, `(default "table")`) != 1 {
		t.Errorf("connections -h = %d\n%s; want $GRANTD_URL named once and no environment value as a default", code, stderr)
	}
	code, _, stderr = runCmd(t, nil, "orgs", "-h")
	for _, want := range []string{"import FILE.csv|FILE.json", "id,name", `"Fabrikam, Inc."`, `{"organizations":[`} {
		if code != 0 || !strings.Contains(stderr, want) {
			t.Errorf("orgs -h = %d, does not show %q:\n%s", code, want, stderr)
		}
	}
	code, stdout, _ = runCmd(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "grantd ") || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("version = %d %q", code, stdout)
	}
}

func TestKeysGenerate(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil, "keys", "generate", "--id", "7")
	if code != 0 {
		t.Fatalf("keys generate = exit %d: %s", code, stderr)
	}
	keys, err := vault.ParseKeys(strings.TrimSpace(stdout))
	if err != nil || len(keys) != 1 || keys[0].ID != 7 {
		t.Errorf("keys generate printed %q: ParseKeys = %v, %v; want one key with id 7", stdout, keys, err)
	}
	if !strings.Contains(stderr, "GRANTD_VAULT_KEYS") {
		t.Errorf("keys generate does not say how to use the key: %q", stderr)
	}
	_, again, _ := runCmd(t, nil, "keys", "generate", "--id", "7")
	if again == stdout {
		t.Error("two generated keys are equal")
	}
}

func TestTenantsCreateAndList(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "grantd.yaml")
	db := filepath.Join(dir, "grantd.db")
	if err := os.WriteFile(cfgPath, []byte("database: "+db+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, nil, "tenants", "create", "Acme MSP", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("tenants create = exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`api key  gdk_\S+`).MatchString(stdout) || !strings.Contains(stderr, "cannot be shown again") {
		t.Errorf("tenants create printed %q / %q; want the key once and a warning", stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, nil, "tenants", "list", "--json", "--config", cfgPath)
	var got []struct{ ID, Name string }
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || len(got) != 1 || got[0].Name != "Acme MSP" {
		t.Errorf("tenants list --json = %d %q %s; want one tenant Acme MSP", code, stdout, stderr)
	}
	if strings.Contains(stdout, "gdk_") {
		t.Error("tenants list shows an API key")
	}
}

// TestBuildWithoutCgo checks that grantd builds as a static binary: the
// SQLite driver is pure Go.
func TestBuildWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	out := filepath.Join(t.TempDir(), "grantd")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, b)
	}
	v, err := exec.CommandContext(t.Context(), out, "version").Output()
	if err != nil || !bytes.HasPrefix(v, []byte("grantd ")) {
		t.Errorf("built binary: version = %q, %v", v, err)
	}
}

func TestDerivePublicURL(t *testing.T) {
	for _, tc := range []struct {
		listen string
		dev    bool
		public string
		want   string
	}{
		{"127.0.0.1:9000", true, "", "http://127.0.0.1:9000"},
		{"127.0.0.1:9000", false, "", "http://127.0.0.1:8080"},                               // not dev: left for Validate
		{"0.0.0.0:9000", true, "", "http://127.0.0.1:8080"},                                  // not loopback
		{"127.0.0.1:9000", true, "https://grantd.example.com", "https://grantd.example.com"}, // set explicitly
	} {
		c := config.Default()
		c.Listen, c.Dev = tc.listen, tc.dev
		if tc.public != "" {
			c.PublicURL = tc.public
		}
		derivePublicURL(c)
		if c.PublicURL != tc.want {
			t.Errorf("derivePublicURL(listen %s, dev %v, public %q) = %q, want %q", tc.listen, tc.dev, tc.public, c.PublicURL, tc.want)
		}
	}
}
