package retry

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff is an exponential schedule: the n-th retry waits Base·2^(n-1),
// at most Max, then loses a random part of up to Jitter of itself, so
// that many clients that failed together do not retry together. The zero
// value waits nothing.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
	// Jitter is the fraction of each delay that is random, in [0, 1]:
	// 0 is the plain schedule, 0.5 is "equal jitter".
	Jitter float64
}

// Delay returns the wait before retry n (1 is the first retry). n below 1
// counts as 1.
func (b Backoff) Delay(n int) time.Duration {
	if b.Base <= 0 {
		return 0
	}
	limit := b.Max
	if limit <= 0 {
		limit = b.Base
	}
	d := b.Base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	if j := min(max(b.Jitter, 0), 1); j > 0 {
		d -= time.Duration(j * rand.Float64() * float64(d))
	}
	return d
}

// ParseRetryAfter reads a Retry-After header value, delay-seconds or an
// HTTP date (RFC 9110 §10.2.3), at now. It returns 0 when the value is
// absent, unparsable or already past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e9 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
