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
	"strings"
	"time"

	"github.com/grantd/grantd/internal/retry"
	"github.com/grantd/grantd/internal/store"
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

// attempt posts the claimed delivery d once and records the outcome in
// the outbox: delivered; failed when the answer is final or attempts are
// used up; otherwise due again after the backoff, or after Retry-After
// when that is longer. The POST is cut off at half the lease, so the claim
// is still this Sender's when the outcome is written. A write that fails
// is logged: the claim then lapses and the delivery is attempted again,
// so a receiver may see it twice (at least once).
func (s *Sender) attempt(ctx context.Context, d store.Delivery) {
	ep := s.byKey[d.Endpoint]
	log := s.log.With("delivery_id", d.ID, "event", d.EventType, "endpoint", ep, "attempt", d.Attempts)
	pctx, cancel := context.WithTimeout(ctx, s.opts.LeaseTTL/2)
	r := s.post(pctx, ep, d)
	cancel()
	s.m.attempt(d.EventType, r.class)

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	now := s.now()
	var err error
	switch {
	case r.err == nil:
		err = s.st.MarkDelivered(wctx, d.ID, now)
		s.m.outcome(d.EventType, "delivered")
		log.Debug("webhook delivered")
	case !r.retry || (s.opts.MaxAttempts > 0 && d.Attempts >= s.opts.MaxAttempts) || !now.Before(s.deadline(d)):
		err = s.st.FailDelivery(wctx, d.ID, s.opts.Owner, now, errText(r.err))
		s.m.outcome(d.EventType, "failed")
		if r.retry {
			log.Warn("webhook delivery failed; giving up", "err", r.err)
		} else {
			log.Warn("webhook delivery failed", "err", r.err)
		}
	default:
		delay := min(max(s.backoff(d.Attempts), r.after), s.opts.MaxDelay)
		next := now.Add(delay)
		if end := s.deadline(d); next.After(end) {
			next, delay = end, end.Sub(now) // one last try at the end of the window
		}
		err = s.st.RetryDelivery(wctx, d.ID, s.opts.Owner, next, errText(r.err))
		if err == nil {
			s.noteDue(next)
		}
		log.Info("webhook delivery will be retried", "err", r.err, "retry_in", delay.String())
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		// The claim lapsed and another Sender took the delivery over; the
		// outcome is its to record.
		log.Warn("webhook delivery claim lapsed before its outcome was recorded", "err", err)
	case err != nil:
		log.Error("record webhook delivery outcome; it will be attempted again when the claim lapses", "err", err)
	}
}

// errText is what the outbox keeps of an attempt's error.
func errText(err error) string {
	const limit = 500
	t := err.Error()
	if len(t) > limit {
		t = strings.ToValidUTF8(t[:limit], "")
	}
	return t
}

// deadline is when d's retry window (RetryFor from its enqueueing) ends.
func (s *Sender) deadline(d store.Delivery) time.Time { return d.CreatedAt.Add(s.opts.RetryFor) }

// backoff is the delay after the n-th failed attempt: Backoff doubling,
// up to MaxDelay, less a random part of up to Jitter.
func (s *Sender) backoff(n int) time.Duration {
	return retry.Backoff{Base: s.opts.Backoff, Max: s.opts.MaxDelay, Jitter: s.opts.Jitter}.Delay(n)
}

// post sends d to ep once.
func (s *Sender) post(ctx context.Context, ep *Endpoint, d store.Delivery) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return result{class: "error", err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "grantd-webhook/1")
	req.Header.Set(HeaderEvent, d.EventType)
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderSignature, Signature(ep.Secret, s.now(), d.Payload))
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
		return result{class: class, retry: true, after: retry.ParseRetryAfter(resp.Header.Get("Retry-After"), s.now()), err: fmt.Errorf("answered %d", code)}
	default:
		return result{class: class, err: fmt.Errorf("answered %d", code)}
	}
}
