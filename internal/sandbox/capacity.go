package sandbox

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// tokenBucket is the token endpoint's rate limiter: up to burst requests at
// once, refilled at rate per second of real time. The zero value is a full
// bucket. It is guarded by the provider's mutex.
type tokenBucket struct {
	started bool
	tokens  float64
	last    time.Time
}

// burstOf is the bucket size of st: TokenRateBurst, or the rate rounded up.
func burstOf(st Settings) int {
	if st.TokenRateBurst > 0 {
		return st.TokenRateBurst
	}
	return max(1, int(math.Ceil(st.TokenRateLimit)))
}

// take refills the bucket to now and takes one request from it. It
// returns whether the request is admitted, the requests left, how long
// until the next one would be admitted (0 when one is left) and how long
// until the bucket is full again.
func (b *tokenBucket) take(st Settings, now time.Time) (ok bool, left int, wait, full time.Duration) {
	burst := float64(burstOf(st))
	if !b.started {
		b.started, b.tokens, b.last = true, burst, now
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(burst, b.tokens+el.Seconds()*st.TokenRateLimit)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		ok = true
	}
	secs := func(n float64) time.Duration { return time.Duration(n / st.TokenRateLimit * float64(time.Second)) }
	if b.tokens < 1 {
		wait = secs(1 - b.tokens)
	}
	return ok, int(b.tokens), wait, secs(burst - b.tokens)
}

// tokenGate applies the provider's token-endpoint capacity (Settings
// TokenRateLimit and TokenLatency) to one request: the rate limit first,
// counted at arrival, then the latency before any answer, the 429
// included. It reports whether the handler goes on; when not, outcome
// names what happened for the stats: "too_many_requests" with the 429
// written, or "canceled" with nothing written because the client left
// during the latency.
func (s *Server) tokenGate(p *provider, w http.ResponseWriter, r *http.Request, st Settings) (outcome string, ok bool) {
	limited := false
	if st.TokenRateLimit > 0 {
		now := s.baseNow()
		p.mu.Lock()
		admitted, left, wait, full := p.bucket.take(st, now)
		if !admitted {
			p.stats.TokenRateLimited++
		}
		p.mu.Unlock()
		// Auth0's rate-limit headers: the bucket size, the requests left
		// and when (Unix time) the bucket is full again.
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(burstOf(st)))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(left))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(full).Unix(), 10))
		if !admitted {
			limited = true
			h.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(max(wait.Seconds(), 1))), 10))
		}
	}
	if st.TokenLatency > 0 && !sleepCtx(r.Context(), st.TokenLatency) {
		return "canceled", false
	}
	if limited {
		writeTokenError(w, &oauthError{http.StatusTooManyRequests, "too_many_requests", "Too many requests. Try again later."})
		return "too_many_requests", false
	}
	return "", true
}
