package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Headers of a delivery.
const (
	HeaderEvent     = "Grantd-Event"
	HeaderDelivery  = "Grantd-Delivery"
	HeaderSignature = "Grantd-Signature"
)

// Signature returns the Grantd-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix seconds>.<body>")>".
func Signature(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// result is what one attempt came to.
type result struct {
	// class is the metric label: 2xx, 3xx, 4xx, 5xx or error.
	class string
	// retry says a later attempt may succeed.
	retry bool
	// after is the delay a Retry-After header asked for.
	after time.Duration
	err   error
}

// deliver makes one attempt at d and settles it: delivered, failed, or
// queued again with backoff when the failure is transient, attempts are
// left and mayRetry is set. It reports whether d was delivered.
func (s *Sender) deliver(ctx context.Context, d *delivery, mayRetry bool) bool {
	d.attempts++
	r := s.post(ctx, d)
	s.m.attempt(d.typ, r.class)
	log := s.log.With("delivery_id", d.id, "event", d.typ, "endpoint", d.endpoint, "attempt", d.attempts)
	switch {
	case r.err == nil:
		s.m.outcome(d.typ, "delivered")
		log.Debug("webhook delivered")
		return true
	case !r.retry:
		s.m.outcome(d.typ, "failed")
		log.Warn("webhook delivery failed", "err", r.err)
	case !mayRetry:
		s.m.outcome(d.typ, "abandoned")
		log.Warn("webhook delivery abandoned at shutdown", "err", r.err)
	case d.attempts >= s.opts.MaxAttempts:
		s.m.outcome(d.typ, "failed")
		log.Warn("webhook delivery failed; giving up", "err", r.err)
	default:
		delay := min(max(s.backoff(d.attempts), r.after), s.opts.MaxDelay)
		d.due = time.Now().Add(delay)
		log.Info("webhook delivery will be retried", "err", r.err, "retry_in", delay.String())
		s.enqueue(d)
	}
	return false
}

// backoff is the delay after the n-th failed attempt: Backoff doubling.
func (s *Sender) backoff(n int) time.Duration {
	d := s.opts.Backoff
	for i := 1; i < n && d < s.opts.MaxDelay; i++ {
		d *= 2
	}
	return d
}

// post sends d once.
func (s *Sender) post(ctx context.Context, d *delivery) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint.URL, bytes.NewReader(d.body))
	if err != nil {
		return result{class: "error", err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "grantd-webhook/1")
	req.Header.Set(HeaderEvent, d.typ)
	req.Header.Set(HeaderDelivery, d.id)
	req.Header.Set(HeaderSignature, Signature(d.endpoint.Secret, s.opts.Now(), d.body))
	resp, err := s.hc.Do(req)
	if err != nil {
		// Drop the *url.Error wrapper, which repeats the URL and its query.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return result{class: "error", retry: true, err: err}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	class := strconv.Itoa(code/100) + "xx"
	switch {
	case code >= 200 && code < 300:
		return result{class: class}
	case code >= 300 && code < 400:
		return result{class: class, err: fmt.Errorf("answered %d; redirects are not followed", code)}
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return result{class: class, retry: true, after: retryAfter(resp.Header.Get("Retry-After"), time.Now()), err: fmt.Errorf("answered %d", code)}
	default:
		return result{class: class, err: fmt.Errorf("answered %d", code)}
	}
}

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3): seconds or an
// HTTP date. It returns 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
