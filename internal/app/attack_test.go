package app

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

// attackSecret is the operator's client secret in the attack run: every
// character that an encoding changes, so a leak in any form is visible.
const attackSecret = `CANARY/FORM+SECRET=1&x%y"q\z é€ end`

// TestAttackRunTwoTenants is issue 7's attack run, rerunnable with
// `go test ./internal/app -run TestAttackRunTwoTenants -v` (docs/design.md):
// two tenants against one grantd, a token endpoint that echoes each
// refresh request (the sandbox's echo_request and echo_token_type
// faults), then a canary scan of the SQLite file, its WAL, the logs, the
// metrics and every API answer for the client secret (raw, URL-encoded,
// base64 as in a Basic header, and JSON-escaped) and the refresh tokens.
// Tenant B gets the 404 of an unknown id on every route that names
// tenant A's connection, and nothing of A's changes.
func TestAttackRunTwoTenants(t *testing.T) {
	var logs syncBuffer
	s := startStack(t, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), func(c *config.Config) {
		c.Integrations[0].ClientSecret = config.Secret(attackSecret)
		c.Refresh.MinForcedInterval = 0
	})
	ctx := t.Context()
	connA := s.connect(t)
	_, keyB, err := tenant.Create(ctx, s.app.Store(), "Beta", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b := s.as(keyB)
	before, err := s.app.Store().GetConnection(ctx, connA)
	if err != nil {
		t.Fatal(err)
	}

	var answers []string
	record := func(st *stack, method, path string, in any) int {
		var raw json.RawMessage
		code := st.callRaw(t, method, path, in, &raw, nil)
		answers = append(answers, string(raw))
		return code
	}
	for _, p := range []struct{ method, path string }{
		{http.MethodGet, "/v1/connections/" + connA},
		{http.MethodGet, "/v1/connections/" + connA + "/token"},
		{http.MethodPost, "/v1/connections/" + connA + "/refresh"},
		{http.MethodGet, "/v1/connections/" + connA + "/events"},
		{http.MethodGet, "/v1/connections/" + connA + "/org-mappings"},
		{http.MethodPost, "/v1/connections/" + connA + "/mapping-links"},
		{http.MethodGet, "/v1/proxy/" + connA + "/companies"},
		{http.MethodDelete, "/v1/connections/" + connA},
	} {
		if got := record(b, p.method, p.path, nil); got != http.StatusNotFound {
			t.Errorf("tenant B: %s %s = %d, want 404", p.method, p.path, got)
		}
	}
	if got := record(b, http.MethodPost, "/v1/connections/"+connA+"/actions/pax8.list_companies", map[string]any{"size": 5}); got != http.StatusNotFound {
		t.Errorf("tenant B: action on A's connection = %d, want 404", got)
	}
	after, _ := s.app.Store().GetConnection(ctx, connA)
	if after.Version != before.Version || after.Status != before.Status {
		t.Fatalf("tenant B's probes changed A's connection: version %d → %d, status %s → %s", before.Version, after.Version, before.Status, after.Status)
	}

	// The echoing token endpoint: each forced refresh of A's connection is
	// answered with the request body quoted in error_description, then in
	// token_type.
	for _, kind := range []string{"echo_request", "echo_token_type"} {
		if err := s.sandbox.AddFault(sandbox.Fault{Provider: sandbox.Pax8, Endpoint: "token", Kind: kind, GrantType: "refresh_token"}); err != nil {
			t.Fatal(err)
		}
		// A refused refresh still hands out the access token that is
		// valid, so the API may answer 200; the answers are scanned below.
		record(s, http.MethodPost, "/v1/connections/"+connA+"/refresh", nil)
		record(s, http.MethodGet, "/v1/connections/"+connA, nil)
		record(s, http.MethodGet, "/v1/connections/"+connA+"/events", nil)
		// The refused refresh backs off; end the backoff for the next.
		if _, err := s.app.Broker().Store().UpdateConnection(ctx, connA, func(c store.Connection) (store.Connection, error) {
			c.NextAttemptAt = time.Time{}
			return c, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The fault was really an echo: the secret reached the sandbox and
	// came back in its answer, so the scan below is not vacuous.
	tokenPath := mustPath(t, s.endpoints.TokenURL)
	echoed := 0
	for _, r := range s.rec.all() {
		if r.Path == tokenPath && strings.Contains(string(r.Body), "CANARY") && strings.Contains(string(r.Answer), "CANARY") {
			echoed++
		}
	}
	if echoed < 2 {
		t.Fatalf("%d token answers echoed the client secret, want 2; the scan would prove nothing", echoed)
	}
	if st, _ := s.app.Store().GetConnection(ctx, connA); st.LastError == "" {
		t.Error("no last_error after the echoed failure; the scan of last_error proves nothing")
	}
	record(s, http.MethodPost, "/v1/connections/"+connA+"/refresh", nil) // a clean refresh after the echoes

	resp, err := http.Get(s.publicURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	secrets := map[string]string{"client secret": attackSecret}
	for _, r := range s.rec.all() {
		if ok, rt := refreshGrant(r, tokenPath); ok && rt != "" {
			secrets["refresh token "+rt[:8]] = rt
		}
	}
	places := map[string]string{"logs": logs.String(), "metrics": string(metrics), "API answers": strings.Join(answers, "\n")}
	for _, a := range answers {
		places["API answers (JSON-decoded)"] += "\n" + jsonStrings(a)
	}
	db := s.app.Config().Database
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(db + suffix); err == nil {
			places["database"+suffix] = string(b)
		} else if suffix != "-shm" {
			t.Fatalf("read %s: %v", db+suffix, err)
		}
	}
	for where, text := range places {
		// Any fragment of the secret, in any encoding that keeps its
		// first word, is a leak.
		if i := strings.Index(text, "CANARY"); i >= 0 {
			t.Errorf("the client secret's marker is in %s: …%s…", where, text[max(0, i-20):min(len(text), i+40)])
		}
		for name, secret := range secrets {
			if how := findSecret(text, secret); how != "" {
				t.Errorf("%s found %s in %s", name, how, where)
			}
			if strings.HasPrefix(name, "client") {
				if j, _ := json.Marshal(secret); strings.Contains(text, strings.Trim(string(j), `"`)) {
					t.Errorf("%s found JSON-escaped in %s", name, where)
				}
			}
		}
	}
}

// jsonStrings returns every string in the JSON document raw, decoded, one
// per line; "" when raw is not JSON.
func jsonStrings(raw string) string {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return ""
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}
