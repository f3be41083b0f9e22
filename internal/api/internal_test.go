package api

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
)

func TestKeyCacheIsBounded(t *testing.T) {
	c := newKeyCache(time.Minute, time.Second, 100)
	now := time.Now()
	for i := range 1000 {
		c.put(sha256.Sum256(fmt.Appendf(nil, "k%d", i)), keyEntry{tenantID: "t", until: now.Add(time.Minute)}, now)
	}
	if n := c.len(); n > 100 {
		t.Errorf("cache holds %d entries, want at most 100", n)
	}
}

func TestClassify(t *testing.T) {
	secret := "rt-canary-secret"
	for _, tc := range []struct {
		err                   error
		wantStatus            int
		wantCode, wantMessage string
	}{
		{&broker.Error{Code: broker.CodeNotFound, Msg: "connection x not found"}, 404, "not_found", "connection x not found"},
		{&broker.Error{Code: broker.CodeNeedsReauth, Msg: "needs reauthorization"}, 409, "needs_reauth", "needs reauthorization"},
		{&broker.Error{Code: broker.CodeRevoked, Msg: "revoked"}, 410, "revoked", "revoked"},
		{&broker.Error{Code: broker.CodeLinkExpired, Msg: "expired"}, 410, "link_expired", "expired"},
		{&broker.Error{Code: broker.CodeInvalidReturnTo, Msg: "bad return_to"}, 400, "invalid_return_to", "bad return_to"},
		{&broker.Error{Code: broker.CodeUpstreamDown, Msg: "Pax8 said " + secret}, 503, "upstream_unavailable", genericMsg[503]},
		{&broker.Error{Code: broker.CodeUpstream, Msg: "Pax8 said " + secret}, 502, "upstream_error", genericMsg[502]},
		{&broker.Error{Code: broker.CodeInternal, Msg: "db " + secret}, 500, "internal", "internal error"},
		{fmt.Errorf("wrapped: %w", &broker.Error{Code: broker.CodeNotFound, Msg: "nf"}), 404, "not_found", "nf"},
		{errors.New("plain " + secret), 500, "internal", "internal error"},
		{&Error{Status: http.StatusTeapot, Code: "teapot", Msg: "short and stout"}, 418, "teapot", "short and stout"},
	} {
		status, code, msg := classify(tc.err)
		if status != tc.wantStatus || code != tc.wantCode || msg != tc.wantMessage {
			t.Errorf("classify(%v) = %d %q %q, want %d %q %q", tc.err, status, code, msg, tc.wantStatus, tc.wantCode, tc.wantMessage)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("classify(%v) leaks the cause into the message", tc.err)
		}
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       `"plain"`,
		`q"b\`:        `"q\"b\\"`,
		"nl\n\t\x01":  `"nl\n\t\u0001"`,
		"<a&b>":       `"\u003ca\u0026b\u003e"`,
		"é\u2028":     `"é\u2028"`,
		"bad\xffutf8": `"bad\ufffdutf8"`,
	} {
		if got := string(appendString(nil, in)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAuthLimiterIsBounded(t *testing.T) {
	l := newAuthLimiter(1, time.Hour, 100)
	now := time.Now()
	for i := range 1000 {
		l.fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), now)
	}
	if n := l.len(); n > 100 {
		t.Errorf("limiter holds %d buckets, want at most 100", n)
	}
}

// TestAuthLimiterForgetsRefilledBuckets: a bucket that has filled up again
// is dropped at the next sweep, since it limits nothing.
func TestAuthLimiterForgetsRefilledBuckets(t *testing.T) {
	l := newAuthLimiter(2, time.Second, 100)
	now := time.Now()
	l.fail(netip.MustParseAddr("192.0.2.1"), now)
	l.fail(netip.MustParseAddr("192.0.2.2"), now)
	if n := l.len(); n != 2 {
		t.Fatalf("buckets = %d, want 2", n)
	}
	now = now.Add(2 * time.Second) // both refilled; a sweep is due
	l.fail(netip.MustParseAddr("192.0.2.3"), now)
	if n := l.len(); n != 1 {
		t.Errorf("buckets after the refill = %d, want 1 (the new one)", n)
	}
}

// TestAuthLimiterIPv6Prefix: addresses of one IPv6 /64 share a bucket,
// so a host cannot take a fresh address for each failure.
func TestAuthLimiterIPv6Prefix(t *testing.T) {
	l := newAuthLimiter(2, time.Hour, 100)
	now := time.Now()
	l.fail(netip.MustParseAddr("2001:db8:1:2::1"), now)
	l.fail(netip.MustParseAddr("2001:db8:1:2::ffff"), now)
	if _, ok := l.blocked(netip.MustParseAddr("2001:db8:1:2::42"), now); !ok {
		t.Error("another address of the /64 is not blocked")
	}
	if _, ok := l.blocked(netip.MustParseAddr("2001:db8:1:3::1"), now); ok {
		t.Error("an address of another /64 is blocked")
	}
	if _, ok := l.blocked(netip.MustParseAddr("192.0.2.1"), now); ok {
		t.Error("an IPv4 address is blocked")
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1001 * time.Millisecond: "2", time.Hour: "3600"} {
		if got := retryAfter(d); got != want {
			t.Errorf("retryAfter(%v) = %s, want %s", d, got, want)
		}
	}
}
