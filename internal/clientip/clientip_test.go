package clientip_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/clientip"
)

func mustResolver(t *testing.T, entries ...string) *clientip.Resolver {
	t.Helper()
	var ps []netip.Prefix
	for _, e := range entries {
		p, err := clientip.ParsePrefix(e)
		if err != nil {
			t.Fatalf("ParsePrefix(%q): %v", e, err)
		}
		ps = append(ps, p)
	}
	return clientip.New(ps)
}

// TestResolveSEC53 checks that X-Forwarded-For moves the client only when
// the peer, and each hop walked through, is a configured proxy (SEC-53).
func TestResolveSEC53(t *testing.T) {
	trusted := mustResolver(t, "127.0.0.1", "10.0.0.0/8", "fd00::/8")
	for _, tc := range []struct {
		name   string
		res    *clientip.Resolver
		remote string
		xff    []string // one entry per header line
		want   string
	}{
		{"untrusted peer, no header", trusted, "198.51.100.4:5000", nil, "198.51.100.4"},
		{"untrusted peer, spoofed header", trusted, "198.51.100.4:5000", []string{"203.0.113.7"}, "198.51.100.4"},
		{"nobody trusted, loopback peer", nil, "127.0.0.1:5000", []string{"203.0.113.7"}, "127.0.0.1"},
		{"zero resolver trusts nobody", &clientip.Resolver{}, "127.0.0.1:5000", []string{"203.0.113.7"}, "127.0.0.1"},
		{"trusted peer, no header", trusted, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"trusted peer, one client", trusted, "127.0.0.1:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"rightmost untrusted wins over a forged left part", trusted, "127.0.0.1:5000", []string{"192.0.2.66, 203.0.113.7"}, "203.0.113.7"},
		{"trusted hops are skipped", trusted, "127.0.0.1:5000", []string{"203.0.113.7, 10.1.2.3,10.4.5.6"}, "203.0.113.7"},
		{"several lines are one list", trusted, "127.0.0.1:5000", []string{"192.0.2.66, 203.0.113.7", "10.1.2.3"}, "203.0.113.7"},
		{"all hops trusted: the leftmost", trusted, "127.0.0.1:5000", []string{"10.9.9.9, 10.1.2.3"}, "10.9.9.9"},
		{"malformed entry: the peer", trusted, "127.0.0.1:5000", []string{"not-an-ip"}, "127.0.0.1"},
		{"malformed entry stops the walk", trusted, "127.0.0.1:5000", []string{"203.0.113.7, bogus"}, "127.0.0.1"},
		{"malformed after a trusted hop: that hop", trusted, "127.0.0.1:5000", []string{"203.0.113.7, bogus, 10.1.2.3"}, "10.1.2.3"},
		{"empty entry is malformed", trusted, "127.0.0.1:5000", []string{"203.0.113.7, "}, "127.0.0.1"},
		{"empty line is malformed", trusted, "127.0.0.1:5000", []string{""}, "127.0.0.1"},
		{"CIDR in the header is malformed", trusted, "127.0.0.1:5000", []string{"203.0.113.0/24"}, "127.0.0.1"},
		{"entry with a port", trusted, "127.0.0.1:5000", []string{"203.0.113.7:4711"}, "203.0.113.7"},
		{"IPv6 entry with a port", trusted, "127.0.0.1:5000", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv4-mapped entry", trusted, "127.0.0.1:5000", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"IPv6 trusted peer", trusted, "[fd00::1]:443", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv4-mapped peer is matched as IPv4", trusted, "[::ffff:127.0.0.1]:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"peer with a zone", trusted, "[fe80::1%eth0]:5000", []string{"203.0.113.7"}, "fe80::1"},
		{"no address", trusted, "@", []string{"203.0.113.7"}, "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := tc.res.Resolve(req).String(); got != tc.want {
				t.Errorf("Resolve(peer %s, X-Forwarded-For %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
			}
		})
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":            "127.0.0.1/32",
		"10.0.0.0/8":           "10.0.0.0/8",
		"::1":                  "::1/128",
		"fd00::/8":             "fd00::/8",
		"0.0.0.0/0":            "0.0.0.0/0",
		"::ffff:10.0.0.0/104":  "10.0.0.0/8",
		"::ffff:192.0.2.1":     "192.0.2.1/32",
		"::ffff:127.0.0.1/128": "127.0.0.1/32",
	} {
		p, err := clientip.ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for in, wantErr := range map[string]string{
		"10.0.0/8":     "not an IP address or CIDR prefix",
		"10.0.0.0/33":  "not an IP address or CIDR prefix",
		"10.0.0.1/8":   "did you mean 10.0.0.0/8?",
		"proxy.local":  "not an IP address or CIDR prefix",
		"":             "not an IP address or CIDR prefix",
		"fe80::1%eth0": "has a zone",
		" 10.0.0.1":    "not an IP address or CIDR prefix",
	} {
		if p, err := clientip.ParsePrefix(in); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParsePrefix(%q) = %v, %v; want an error mentioning %q", in, p, err, wantErr)
		}
	}
}

func TestTrustsIPv4MappedPrefix(t *testing.T) {
	r := mustResolver(t, "::ffff:10.0.0.0/104")
	for addr, want := range map[string]bool{"10.1.2.3": true, "::ffff:10.1.2.3": true, "11.0.0.1": false, "::ffff:11.0.0.1": false} {
		if got := r.Trusts(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Trusts(%s) = %v, want %v", addr, got, want)
		}
	}
}
