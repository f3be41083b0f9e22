package pax8

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Response is what a Pax8 API response said besides its body: status,
// headers, request id and rate-limit state. Collect it for any call with
// [WithResponse]; an [*Error] carries the request id of its response too.
type Response struct {
	StatusCode int
	// Header holds the response headers.
	Header http.Header
	// RequestID is the id the gateway gave the request (X-Request-Id,
	// X-Correlation-Id or X-Amzn-RequestId), for Pax8 support; "" if none.
	RequestID string
	// RateLimit is the rate-limit state the response announced.
	RateLimit RateLimit
}

// RateLimit is the rate-limit state from X-RateLimit-* or RateLimit-*
// headers. Pax8 documents none of them (only "429 Too many requests hit the
// API quickly"), so Known is false unless a gateway sends them.
type RateLimit struct {
	Known     bool
	Limit     int
	Remaining int
	// Reset is when the window resets; zero if not announced.
	Reset time.Time
}

type responseKey struct{}

type responseSink struct {
	mu  sync.Mutex
	dst *Response
}

// WithResponse returns a context under which every call records its last
// HTTP response in *dst (after retries, the final one; in an All walk, the
// latest page). dst is written under a lock, so it may be read after the
// call returns.
//
//	var resp pax8.Response
//	page, err := c.Companies.List(pax8.WithResponse(ctx, &resp), nil)
//	log.Print(resp.RequestID, resp.RateLimit.Remaining)
func WithResponse(ctx context.Context, dst *Response) context.Context {
	return context.WithValue(ctx, responseKey{}, &responseSink{dst: dst})
}

// record stores resp in ctx's sink, if any, and returns it as a Response.
func record(ctx context.Context, resp *http.Response, now time.Time) Response {
	r := Response{StatusCode: resp.StatusCode, Header: resp.Header, RequestID: requestID(resp.Header),
		RateLimit: parseRateLimit(resp.Header, now)}
	if s, ok := ctx.Value(responseKey{}).(*responseSink); ok && s.dst != nil {
		s.mu.Lock()
		*s.dst = r
		s.mu.Unlock()
	}
	return r
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "X-Correlation-Id", "X-Amzn-Requestid", "Request-Id"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" && len(v) <= 200 {
			return v
		}
	}
	return ""
}

func parseRateLimit(h http.Header, now time.Time) RateLimit {
	get := func(name string) (int64, bool) {
		for _, p := range []string{"X-RateLimit-", "RateLimit-"} {
			if v := h.Get(p + name); v != "" {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				return n, err == nil
			}
		}
		return 0, false
	}
	var rl RateLimit
	if n, ok := get("Limit"); ok {
		rl.Known, rl.Limit = true, int(n)
	}
	if n, ok := get("Remaining"); ok {
		rl.Known, rl.Remaining = true, int(n)
	}
	if n, ok := get("Reset"); ok && n >= 0 {
		if n > 1_000_000_000 { // a Unix time
			rl.Reset = time.Unix(n, 0)
		} else { // seconds from now
			rl.Reset = now.Add(time.Duration(n) * time.Second)
		}
	}
	return rl
}
