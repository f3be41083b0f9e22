package api

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"testing"
	"time"
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
