package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestTrustedProxiesSEC53 reads server.trusted_proxies: addresses and CIDR
// prefixes, IPv4 and IPv6 (SEC-53).
func TestTrustedProxiesSEC53(t *testing.T) {
	got, err := Load(writeConfig(t, `
public_url: https://grantd.example.com
server:
  trusted_proxies: [10.0.0.0/8, 192.0.2.10, "fd00::/8", "::1"]
  auth_failure_limit: {burst: 5, every: 10s}
`), env(baseEnv(t)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("::1/128"),
	}
	if diff := cmp.Diff(want, got.Server.TrustedPrefixes(), cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("trusted prefixes (-want +got):\n%s", diff)
	}
	if l := got.Server.AuthFailureLimit; l.Burst != 5 || l.Every.D() != 10*time.Second {
		t.Errorf("auth_failure_limit = %+v, want burst 5 every 10s", l)
	}
}

// TestServerDefaultsSEC53: by default no proxy is trusted, and 20 failed
// authentications are allowed, then one a second.
func TestServerDefaultsSEC53(t *testing.T) {
	d := Default()
	if len(d.Server.TrustedProxies) != 0 || len(d.Server.TrustedPrefixes()) != 0 {
		t.Errorf("default trusted proxies = %v, want none", d.Server.TrustedProxies)
	}
	if l := d.Server.AuthFailureLimit; l.Burst != 20 || l.Every.D() != time.Second {
		t.Errorf("default auth_failure_limit = %+v, want burst 20 every 1s", l)
	}
}

// TestServerErrorsSEC53 checks that every bad entry is reported with its
// YAML path, along with the other problems.
func TestServerErrorsSEC53(t *testing.T) {
	_, err := Load(writeConfig(t, `
public_url: https://grantd.example.com
server:
  trusted_proxies: [10.0.0.0/8, 10.0.0/8, 10.0.0.1/8, proxy.internal, ""]
  auth_failure_limit: {burst: 0, every: 0s}
`), env(baseEnv(t)))
	if err == nil {
		t.Fatal("Load = nil error")
	}
	msg := err.Error()
	for _, want := range []string{
		`server.trusted_proxies[1]: "10.0.0/8" is not an IP address or CIDR prefix`,
		`server.trusted_proxies[2]: "10.0.0.1/8" has bits set beyond the prefix length (did you mean 10.0.0.0/8?)`,
		`server.trusted_proxies[3]: "proxy.internal" is not an IP address or CIDR prefix`,
		`server.trusted_proxies[4]: "" is not an IP address or CIDR prefix`,
		"server.auth_failure_limit.burst: must be positive",
		"server.auth_failure_limit.every: must be positive",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if strings.Contains(msg, "trusted_proxies[0]") {
		t.Errorf("a valid entry is reported: %s", msg)
	}
	if t.Failed() {
		t.Logf("full error:\n%s", msg)
	}

	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown server field", "server:\n  trusted_proxy: [10.0.0.0/8]\n", "line 2: server.trusted_proxy: unknown field (did you mean trusted_proxies?)"},
		{"not a list", "server:\n  trusted_proxies: 10.0.0.0/8\n", "line 2"},
		{"unknown limit field", "server:\n  auth_failure_limit:\n    rate: 5\n", "line 3: server.auth_failure_limit.rate: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Load(writeConfig(t, tc.yaml), env(baseEnv(t))); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
