package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
)

// TestSandboxPrintsProviderConfig parses the providers: block that
// `grantd sandbox` prints as grantd's config: each provider validates in
// dev mode (SEC-52), every built-in the sandbox emulates points at the
// sandbox, and pax8 carries the refresh-token settings the sandbox was
// started with. The --json output carries the same entries.
func TestSandboxPrintsProviderConfig(t *testing.T) {
	settings := sandbox.DefaultSettings()
	settings.ReuseInterval, settings.RefreshIdle = 30*time.Second, 10*time.Minute
	sb, err := sandbox.New(sandbox.Options{Pax8: settings})
	if err != nil {
		t.Fatal(err)
	}
	sb.SetBaseURL("http://127.0.0.1:9090")
	names := []string{sandbox.Pax8, sandbox.Paxful, sandbox.Daxko}

	var text bytes.Buffer
	printSandbox(&env{stdout: &text}, sb, settings, "", false)
	_, after, ok := strings.Cut(text.String(), "grantd config for these providers")
	if !ok {
		t.Fatalf("grantd sandbox prints no grantd config:\n%s", text.String())
	}
	var block []string
	for _, line := range strings.Split(after, "\n")[1:] {
		if line != "providers:" && !strings.HasPrefix(line, "  - ") {
			break
		}
		block = append(block, line)
	}
	if len(block) != 1+len(names) {
		t.Fatalf("config block = %q, want providers: and %d entries", block, len(names))
	}
	cfg, err := config.Parse([]byte("dev: true\n" + strings.Join(block, "\n")))
	if err != nil {
		t.Fatalf("config.Parse of the printed block: %v\n%s", err, strings.Join(block, "\n"))
	}
	reg, err := cfg.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		p, _ := reg.Get(name)
		if err := p.Validate(cfg.Dev); err != nil {
			t.Errorf("provider %s: %v", name, err)
		}
		if ep := sb.Endpoints(name); p.TokenURL != ep.TokenURL || p.API.BaseURL != ep.APIBaseURL || p.Issuer != ep.Issuer {
			t.Errorf("provider %s: token_url %q, api.base_url %q, issuer %q; want the sandbox's %q, %q, %q",
				name, p.TokenURL, p.API.BaseURL, p.Issuer, ep.TokenURL, ep.APIBaseURL, ep.Issuer)
		}
	}
	p, _ := reg.Get(sandbox.Pax8)
	if abs, idle, reuse := p.RefreshToken.AbsoluteLifetime.D(), p.RefreshToken.IdleLifetime.D(), p.RefreshToken.ReuseInterval.D(); abs != settings.RefreshAbsolute || idle != 10*time.Minute || reuse != 30*time.Second {
		t.Errorf("pax8 refresh_token: absolute %s, idle %s, reuse %s; want %s, 10m, 30s", abs, idle, reuse, settings.RefreshAbsolute)
	}

	var js bytes.Buffer
	printSandbox(&env{stdout: &js}, sb, settings, "", true)
	// "accounts", "client_id" and "control_prefix" are not personalities.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, name := range names {
		var m map[string]any
		if err := json.Unmarshal(raw[name], &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = m
	}
	for i, name := range names {
		if got, want := out[name]["provider_yaml"], strings.TrimPrefix(block[1+i], "  - "); got != want {
			t.Errorf("--json %s.provider_yaml = %v, want %q", name, got, want)
		}
		if out[name]["token_url"] != sb.Endpoints(name).TokenURL {
			t.Errorf("--json %s.token_url = %v, want %q", name, out[name]["token_url"], sb.Endpoints(name).TokenURL)
		}
	}
	for _, k := range []string{"accounts", "client_id", "control_prefix"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	if _, ok := out[sandbox.Pax8]["control_prefix"]; !ok {
		t.Errorf("--json lacks pax8.control_prefix")
	}
}
