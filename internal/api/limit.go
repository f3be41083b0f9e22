package api

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/grantd/grantd/internal/httpapi"
)

// Defaults of the failed-authentication limit.
const (
	defaultAuthFailureBurst = 20
	defaultAuthFailureEvery = time.Second
	// defaultAuthFailureClients caps the addresses tracked at once.
	defaultAuthFailureClients = 10000
)

// errTooManyFailures answers a caller whose address has used up its failed
// authentications; it is sent before the key is checked.
var errTooManyFailures = &httpapi.Error{Status: http.StatusTooManyRequests, Code: codeRateLimited,
	Message: "too many failed authentications from this address; retry after the time in Retry-After"}

// authLimiter limits failed authentications with one token bucket
// ([rate.Limiter]) per client: burst failures in a row, then one more every
// every. A client is an IPv4 address or an IPv6 /64, the smallest block an
// IPv6 host is usually given, so that a host does not get a fresh bucket
// per address. A bucket that has filled up again is the same as no bucket
// and is dropped; at most max buckets are kept, and when a new client
// finds them all in use, arbitrary ones are dropped (which hands those
// clients a full bucket: the cap bounds memory, not a distributed attack).
// It is safe for concurrent use.
type authLimiter struct {
	every time.Duration
	burst int
	max   int

	mu        sync.Mutex
	buckets   map[netip.Prefix]*rate.Limiter
	lastSweep time.Time
}

func newAuthLimiter(burst int, every time.Duration, max int) *authLimiter {
	return &authLimiter{every: every, burst: burst, max: max, buckets: make(map[netip.Prefix]*rate.Limiter)}
}

// clientKey is the bucket of address a; the invalid address (a peer
// without an IP) has one bucket too.
func clientKey(a netip.Addr) netip.Prefix {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// blocked reports whether a's bucket is empty at now and, if so, how long
// until it allows one more failure.
func (l *authLimiter) blocked(a netip.Addr, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	lim := l.buckets[clientKey(a)]
	l.mu.Unlock()
	if lim == nil {
		return 0, false
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0, false
	}
	return time.Duration((1 - tokens) * float64(l.every)), true
}

// fail spends one of a's failures at now.
func (l *authLimiter) fail(a netip.Addr, now time.Time) {
	k := clientKey(a)
	l.mu.Lock()
	lim := l.buckets[k]
	if lim == nil {
		l.makeRoom(now)
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.buckets[k] = lim
	}
	l.mu.Unlock()
	lim.AllowN(now, 1)
}

// makeRoom drops the buckets that have filled up again, at most once per
// refill time unless the map is full; when it is still full, it drops
// arbitrary buckets down to nine tenths of max, so that the next sweeps
// are rare. l.mu is held.
func (l *authLimiter) makeRoom(now time.Time) {
	full := len(l.buckets) >= l.max
	if !full && now.Sub(l.lastSweep) < time.Duration(l.burst)*l.every {
		return
	}
	l.lastSweep = now
	for k, lim := range l.buckets {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < l.max {
		return
	}
	for k := range l.buckets { // map order is random
		if len(l.buckets) < l.max*9/10 {
			break
		}
		delete(l.buckets, k)
	}
}

func (l *authLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// retryAfter is d in whole seconds for Retry-After (RFC 9110 §10.2.3),
// rounded up and at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
