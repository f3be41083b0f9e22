package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWebhooks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hook-secret")
	if err := os.WriteFile(file, []byte("file-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := baseEnv(t)
	e["GRANTD_WEBHOOK_SECRET"] = "env-secret-0123456789"
	got, err := Load(writeConfig(t, fmt.Sprintf(`
public_url: https://grantd.example.com
webhooks:
  - url: https://app.example.com/hooks/grantd
    secret_env: GRANTD_WEBHOOK_SECRET
    events: [needs_reauth, reauth_due, connected, deleted]
  - url: https://audit.example.com/grantd?source=grantd
    secret_file: %s
refresh:
  reauth_notices: [240h]
`, file)), env(e))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if n := len(got.Webhooks); n != 2 {
		t.Fatalf("webhooks = %d, want 2", n)
	}
	if got, want := got.Webhooks[0].Secret.Reveal(), "env-secret-0123456789"; got != want {
		t.Errorf("webhooks[0] secret = %q, want %q", got, want)
	}
	if got, want := got.Webhooks[1].Secret.Reveal(), "file-secret-0123456789"; got != want {
		t.Errorf("webhooks[1] secret = %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"needs_reauth", "reauth_due", "connected", "deleted"}, got.Webhooks[0].Events); diff != "" {
		t.Errorf("webhooks[0].events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Duration{Duration(240 * time.Hour)}, got.Refresh.ReauthNotices); diff != "" {
		t.Errorf("refresh.reauth_notices (-want +got):\n%s", diff)
	}
	if s := fmt.Sprintf("%v %+v", got.Webhooks, got.Webhooks); strings.Contains(s, "0123456789") {
		t.Errorf("webhooks print their secrets: %s", s)
	}
}

func TestWebhookDefaults(t *testing.T) {
	want := []Duration{Duration(30 * 24 * time.Hour), Duration(7 * 24 * time.Hour)}
	if diff := cmp.Diff(want, Default().Refresh.ReauthNotices); diff != "" {
		t.Errorf("default reauth_notices (-want +got):\n%s", diff)
	}
}

// TestWebhookErrors reports every webhook problem with its YAML path, and
// never the secret (SEC-52 for the URLs).
func TestWebhookErrors(t *testing.T) {
	e := baseEnv(t)
	e["SHORT_SECRET"] = "short-canary"
	_, err := Load(writeConfig(t, `
public_url: https://grantd.example.com
webhooks:
  - url: http://app.example.com/hooks
    secret_env: SHORT_SECRET
    events: [needs_reauth, needs_reauth, exploded]
  - secret_env: MISSING
  - url: https://app.example.com/x
refresh:
  reauth_notices: [168h, 0s, 168h]
`), env(e))
	if err == nil {
		t.Fatal("Load = nil error")
	}
	msg := err.Error()
	for _, want := range []string{
		`webhooks[0].url: "http://app.example.com/hooks" must use https`,
		"webhooks[0].secret_env: the signing secret is shorter than 16 characters",
		`webhooks[0].events[1]: "needs_reauth" is listed twice`,
		`webhooks[0].events[2]: unknown event "exploded"`,
		"webhooks[1].url: is required",
		"webhooks[1].secret_env: environment variable MISSING is empty",
		"webhooks[2].secret_env: is required (or webhooks[2].secret_file)",
		"refresh.reauth_notices[1]: must be positive",
		"refresh.reauth_notices[2]: 168h0m0s is listed twice",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if strings.Contains(msg, "short-canary") {
		t.Error("error reveals the secret")
	}
	if t.Failed() {
		t.Logf("full error:\n%s", msg)
	}
	// An inline secret gets the hint.
	if _, err := Parse([]byte("webhooks:\n  - url: https://x.example\n    secret: oops\n")); err == nil || !strings.Contains(err.Error(), "secrets never go in the file") {
		t.Errorf("Parse(inline secret) = %v, want the secrets hint", err)
	}
}

// TestWebhookDevLoopback allows an http receiver on loopback in dev mode
// only (SEC-52).
func TestWebhookDevLoopback(t *testing.T) {
	e := baseEnv(t)
	e["HOOK"] = "hook-secret-0123456789"
	for _, dev := range []bool{true, false} {
		_, err := Load(writeConfig(t, fmt.Sprintf(`
dev: %t
webhooks:
  - url: http://127.0.0.1:9999/hooks
    secret_env: HOOK
`, dev)), env(e))
		hookErr := err != nil && strings.Contains(err.Error(), "webhooks[0].url")
		if hookErr == dev {
			t.Errorf("dev %t: Load = %v; want a webhooks[0].url error only without dev", dev, err)
		}
	}
}
