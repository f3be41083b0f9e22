package storm

import (
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// tokenLimiter puts a provider's latency and rate cap in front of the
// sandbox's token endpoint: each token request waits a latency drawn
// uniformly from [min, max], and beyond the cap it is answered 429 with
// Retry-After at once, as a rate-limited provider does.
type tokenLimiter struct {
	tokenPath string
	min, max  time.Duration
	lim       *rate.Limiter // nil: no cap
	tooMany   atomic.Int64
}

func newTokenLimiter(minLatency, maxLatency time.Duration, capPerSec float64, burst int) *tokenLimiter {
	l := &tokenLimiter{min: minLatency, max: max(maxLatency, minLatency)}
	if capPerSec > 0 {
		l.lim = rate.NewLimiter(rate.Limit(capPerSec), max(burst, 1))
	}
	return l
}

// TooMany is how many token requests were answered 429.
func (l *tokenLimiter) TooMany() int { return int(l.tooMany.Load()) }

func (l *tokenLimiter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != l.tokenPath {
			h.ServeHTTP(w, r)
			return
		}
		if l.lim != nil && !l.lim.Allow() {
			l.tooMany.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":"too_many_requests","error_description":"Too Many Requests"}`))
			return
		}
		if d := l.latency(); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (l *tokenLimiter) latency() time.Duration {
	if l.max <= l.min {
		return l.min
	}
	return l.min + rand.N(l.max-l.min+1)
}
