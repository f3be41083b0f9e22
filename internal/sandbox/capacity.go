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
func burstOf(st Settings) int { return burst(st.TokenRateLimit, st.TokenRateBurst) }

// burst is a bucket's size: b, or the rate rounded up (at least 1).
func burst(rate float64, b int) int {
	if b > 0 {
		return b
	}
	return max(1, int(math.Ceil(rate)))
}

// take refills the bucket to now and takes one request from it. It
// returns whether the request is admitted, the requests left, how long
// until the next one would be admitted (0 when one is left) and how long
// until the bucket is full again.
func (b *tokenBucket) take(st Settings, now time.Time) (ok bool, left int, wait, full time.Duration) {
	return b.takeAt(st.TokenRateLimit, burstOf(st), now)
}

// takeAt is take for a bucket of size size refilled at rate per second.
func (b *tokenBucket) takeAt(rate float64, size int, now time.Time) (ok bool, left int, wait, full time.Duration) {
	burst := float64(size)
	if !b.started {
		b.started, b.tokens, b.last = true, burst, now
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(burst, b.tokens+el.Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		ok = true
	}
	secs := func(n float64) time.Duration { return time.Duration(n / rate * float64(time.Second)) }
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

// pax8TooMany is Pax8's documented 429 text (provider-facts §1.7, "429 Too
// Many Requests — Too many requests hit the API quickly").
const pax8TooMany = "Too many requests hit the API quickly"

// apiLimited applies Settings.APIRateLimit to one API request, counted at
// arrival. It reports whether the request is refused, with Retry-After set
// for the caller to write the personality's 429. Pax8 documents no
// rate-limit headers, so none are sent.
func (s *Server) apiLimited(p *provider, w http.ResponseWriter, st Settings) bool {
	if st.APIRateLimit <= 0 {
		return false
	}
	p.mu.Lock()
	ok, _, wait, _ := p.apiBucket.takeAt(st.APIRateLimit, burst(st.APIRateLimit, st.APIRateBurst), s.baseNow())
	p.mu.Unlock()
	if !ok {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(max(wait.Seconds(), 1))), 10))
	}
	return !ok
}
