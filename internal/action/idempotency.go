package action

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/pax8"
)

// IdempotencyField is the part of a write action's input that carries its
// idempotency key, as an alternative to the Idempotency-Key header.
type IdempotencyField struct {
	IdempotencyKey *string `json:"idempotency_key,omitempty" desc:"makes the write happen at most once for this key (up to 255 characters, kept 24 hours); the Idempotency-Key header does the same"`
}

// maxAttempt bounds one keyed write, looks and resends included.
const maxAttempt = 5 * time.Minute

// MaxIdempotencyKey is the longest idempotency key accepted.
const MaxIdempotencyKey = 255

// Idempotency defaults.
const (
	// DefaultIdempotencyTTL is how long a key and its answer are kept.
	DefaultIdempotencyTTL = 24 * time.Hour
	// DefaultIdempotencyLease bounds how long one attempt holds its key
	// before a duplicate on any replica may take it over.
	DefaultIdempotencyLease = 2 * time.Minute
	// DefaultIdempotencyWait is how long a duplicate waits for the attempt
	// in flight before giving up with [ErrKeyInFlight].
	DefaultIdempotencyWait = 30 * time.Second
)

// Errors of keyed writes.
var (
	// ErrKeyReused: the key was first used with another request (action,
	// input or connection).
	ErrKeyReused = errors.New("idempotency key reused with another request")
	// ErrKeyInFlight: another request with the key is still running.
	ErrKeyInFlight = errors.New("a request with this idempotency key is in progress")
)

// Answer is a keyed write's HTTP answer: what was sent to the first caller,
// replayed to every later one.
type Answer struct {
	Status int
	Body   []byte
	// Replayed says the answer was recorded by an earlier request.
	Replayed bool
}

// checkKey validates an idempotency key: 1 to 255 printable characters.
func checkKey(key string) error {
	switch {
	case len(key) > MaxIdempotencyKey:
		return &InputError{Field: "idempotency_key", Msg: fmt.Sprintf("must be at most %d characters", MaxIdempotencyKey)}
	case strings.TrimSpace(key) == "":
		return &InputError{Field: "idempotency_key", Msg: "must not be empty"}
	case strings.IndexFunc(key, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return &InputError{Field: "idempotency_key", Msg: "must hold printable characters only"}
	}
	return nil
}

// keyed is implemented by the inputs of write actions, through
// [IdempotencyField].
type keyed interface{ idempotency() *IdempotencyField }

func (f *IdempotencyField) idempotency() *IdempotencyField { return f }

// canonical decodes raw into a new In, strictly and validated like the
// action itself does, and returns the idempotency_key it holds (nil when
// absent) and the input re-encoded without it: one spelling for every
// equal input (field order, spacing, "1" or 1 for a number).
func canonical[In any](raw []byte) (*string, []byte, error) {
	in := new(In)
	if err := decodeInput(raw, in); err != nil {
		return nil, nil, err
	}
	var key *string
	if k, ok := any(in).(keyed); ok {
		f := k.idempotency()
		key, f.IdempotencyKey = f.IdempotencyKey, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, nil, &InputError{Msg: "the input cannot be encoded"}
	}
	return key, b, nil
}

// keyAndHash returns the idempotency key (the header, else the input's
// idempotency_key; both must agree) and the request hash: SHA-256 over the
// action name, the connection id and the canonical input.
func keyAndHash(a Action, connID, header string, input []byte) (string, []byte, error) {
	field, canon, err := a.canon(input)
	if err != nil {
		return "", nil, err
	}
	key := header
	if field != nil {
		if *field == "" {
			return "", nil, &InputError{Field: "idempotency_key", Msg: "must not be empty"}
		}
		if header != "" && *field != header {
			return "", nil, &InputError{Field: "idempotency_key", Msg: "differs from the Idempotency-Key header"}
		}
		key = *field
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(a.Name), []byte(connID), canon} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return key, h.Sum(nil), nil
}

// RunKeyed runs the write action name like [Runner.Run], at most once per
// tenant and idempotency key. key is the Idempotency-Key header ("" for
// none: the input's idempotency_key, if any, is the key; with neither,
// RunKeyed is Run). The first request with a key runs the action and
// records its successful answer for [Options.IdempotencyTTL]; later ones
// with the same request get that answer without calling the provider, ones
// with another request [ErrKeyReused], and concurrent ones (on any replica)
// wait for the first. When an attempt's answer was lost after it was sent
// (a timeout, a reset connection, a 5xx), the provider is read to learn
// whether the write happened before it is sent again. A failure that
// changed nothing (invalid input, a 4xx from the provider) frees the key.
// Errors are those of Run, [ErrKeyReused] and [ErrKeyInFlight].
func (rn *Runner) RunKeyed(ctx context.Context, tenantID, connID, name, key string, input []byte) (Answer, error) {
	a, ok := Lookup(name)
	if !ok {
		return Answer{}, fmt.Errorf("%w %q", ErrUnknownAction, name)
	}
	if !a.Idempotent {
		if key != "" {
			// Reads are idempotent already; the header is ignored.
			key = ""
		}
		return rn.answer(rn.Run(ctx, tenantID, connID, name, input))
	}
	key, hash, err := keyAndHash(a, connID, key, input)
	if err != nil {
		return Answer{}, err
	}
	if key == "" {
		return rn.answer(rn.Run(ctx, tenantID, connID, name, input))
	}
	if err := checkKey(key); err != nil {
		return Answer{}, err
	}
	if rn.opts.Store == nil {
		return Answer{}, errors.New("action: idempotency keys need Options.Store")
	}
	rn.purge(ctx)
	owner := rn.owner()
	wait := time.NewTimer(rn.opts.IdempotencyWait)
	defer wait.Stop()
	poll := 10 * time.Millisecond
	for {
		now := rn.opts.Now()
		rec, started, err := rn.opts.Store.BeginIdempotency(ctx, store.IdempotencyKey{
			TenantID: tenantID, Key: key, RequestHash: hash, Owner: owner,
			LeaseExpiresAt: now.Add(rn.opts.IdempotencyLease), CreatedAt: now, ExpiresAt: now.Add(rn.opts.IdempotencyTTL),
		}, now)
		if err != nil {
			return Answer{}, err
		}
		if !bytes.Equal(rec.RequestHash, hash) {
			if started {
				// A lapsed key of another request: leave it to its own
				// retries.
				_ = rn.opts.Store.ReleaseIdempotency(ctx, tenantID, key, owner, true)
			}
			return Answer{}, ErrKeyReused
		}
		if started {
			return rn.attempt(ctx, a, rec, connID, input)
		}
		if rec.State == store.IdempotencyDone {
			return Answer{Status: rec.Status, Body: rec.Body, Replayed: true}, nil
		}
		select {
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		case <-wait.C:
			return Answer{}, ErrKeyInFlight
		case <-time.After(poll):
			poll = min(2*poll, 250*time.Millisecond)
		}
	}
}

// answer turns Run's result into an Answer.
func (rn *Runner) answer(res any, err error) (Answer, error) {
	if err != nil {
		return Answer{}, err
	}
	b, err := resultJSON(res)
	return Answer{Status: http.StatusOK, Body: b}, err
}

func resultJSON(res any) ([]byte, error) {
	b, err := json.Marshal(struct {
		Result any `json:"result"`
	}{res})
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return append(b, '\n'), nil
}

// attempt runs the write for the key rec that this process holds.
func (rn *Runner) attempt(ctx context.Context, a Action, rec store.IdempotencyKey, connID string, input []byte) (Answer, error) {
	// Whatever the caller does, the outcome must be recorded; a hung
	// provider still ends the attempt (its lease is renewed meanwhile).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxAttempt)
	defer cancel()
	st, tenantID, key, owner := rn.opts.Store, rec.TenantID, rec.Key, rec.Owner
	// The client must not resend a write whose answer was lost (it
	// would for PUT and DELETE): that is attempt's job, after looking.
	c, err := rn.client(ctx, a, tenantID, connID, new(0))
	if err != nil {
		_ = st.ReleaseIdempotency(ctx, tenantID, key, owner, !rec.SentAt.IsZero())
		return Answer{}, err
	}
	ctx = c.ctx
	stop := rn.renew(ctx, rec)
	defer stop()
	sentAt := rec.SentAt
	if !sentAt.IsZero() {
		// An earlier attempt's answer was lost: look before sending again.
		if ans, done, err := rn.adopt(ctx, a, c.pax8, rec, input, sentAt); done || err != nil {
			return ans, err
		}
	}
	for try := 0; ; try++ {
		now := rn.opts.Now()
		if err := st.MarkIdempotencySent(ctx, tenantID, key, owner, now); err != nil {
			return Answer{}, fmt.Errorf("idempotency key lost its lease: %w", err)
		}
		if sentAt.IsZero() {
			sentAt = now
		}
		res, err := a.run(ctx, c.pax8, input, rn.opts.MaxAll)
		if err == nil {
			return rn.complete(ctx, a, rec, res, true)
		}
		if !lostAnswer(err) {
			_ = st.ReleaseIdempotency(ctx, tenantID, key, owner, false)
			return Answer{}, err
		}
		rn.log.WarnContext(ctx, "write answer lost; looking before sending again", "action", a.Name, "attempt", try+1, "error", err)
		if try == 1 {
			// Sent twice, lost twice: keep the key for the caller's retry.
			_ = st.ReleaseIdempotency(ctx, tenantID, key, owner, true)
			return Answer{}, err
		}
		if ans, done, lerr := rn.adopt(ctx, a, c.pax8, rec, input, sentAt); done || lerr != nil {
			if lerr != nil {
				return Answer{}, err
			}
			return ans, nil
		}
	}
}

// adopt looks for the result of a write sent at since and, when it finds
// one no other key recorded, records it as the key's answer (done). On a
// failed look it frees the lease, keeping the key, and returns the error.
func (rn *Runner) adopt(ctx context.Context, a Action, c *pax8.Client, rec store.IdempotencyKey, input []byte, since time.Time) (Answer, bool, error) {
	found, err := a.look(ctx, c, input, since)
	if err != nil {
		_ = rn.opts.Store.ReleaseIdempotency(ctx, rec.TenantID, rec.Key, rec.Owner, true)
		return Answer{}, false, err
	}
	for _, res := range found {
		ans, err := rn.complete(ctx, a, rec, res, false)
		if errors.Is(err, store.ErrAlreadyExists) {
			continue // another key's result
		}
		if err == nil {
			rn.log.InfoContext(ctx, "lost write had happened; answer recorded", "action", a.Name)
		}
		return ans, true, err
	}
	return Answer{}, false, nil
}

// complete records res as the key's answer. When sent is set, res is the
// provider's own answer to this key, recorded even if a recovery of
// another key adopted its resource.
func (rn *Runner) complete(ctx context.Context, a Action, rec store.IdempotencyKey, res any, sent bool) (Answer, error) {
	b, err := resultJSON(res)
	if err != nil {
		return Answer{}, err
	}
	resource := a.resource(res)
	err = rn.opts.Store.CompleteIdempotency(ctx, rec.TenantID, rec.Key, rec.Owner, http.StatusOK, b, resource)
	if errors.Is(err, store.ErrAlreadyExists) && sent {
		rn.log.WarnContext(ctx, "a recovered key adopted this write's result", "action", a.Name)
		err = rn.opts.Store.CompleteIdempotency(ctx, rec.TenantID, rec.Key, rec.Owner, http.StatusOK, b, "")
	}
	if err != nil {
		return Answer{}, err
	}
	return Answer{Status: http.StatusOK, Body: b}, nil
}

// lostAnswer reports whether err may hide a write that happened: no
// answer (a timeout, a reset or closed connection) or a 5xx.
func lostAnswer(err error) bool {
	if pe, ok := errors.AsType[*pax8.Error](err); ok {
		return pe.Status >= 500
	}
	if _, ok := errors.AsType[*InputError](err); ok || isBroker(err) {
		return false
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// renew extends rec's lease every third of its length while an attempt
// runs, so that a slow provider does not let a duplicate take the key
// over; the returned func stops it.
func (rn *Runner) renew(ctx context.Context, rec store.IdempotencyKey) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(rn.opts.IdempotencyLease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				until := rn.opts.Now().Add(rn.opts.IdempotencyLease)
				if err := rn.opts.Store.RenewIdempotency(ctx, rec.TenantID, rec.Key, rec.Owner, until); err != nil {
					if !errors.Is(err, store.ErrConflict) {
						rn.log.WarnContext(ctx, "renew idempotency lease", "error", err)
					}
					return
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// owner returns a lease owner id for one attempt.
func (rn *Runner) owner() string {
	b := make([]byte, 8)
	rand.Read(b)
	return rn.opts.Owner + "/" + hex.EncodeToString(b)
}

// purge deletes expired keys at most once a minute.
func (rn *Runner) purge(ctx context.Context) {
	now := rn.opts.Now()
	rn.purgeMu.Lock()
	due := now.Sub(rn.purged) >= time.Minute
	if due {
		rn.purged = now
	}
	rn.purgeMu.Unlock()
	if !due {
		return
	}
	if n, err := rn.opts.Store.PurgeIdempotency(ctx, now); err != nil {
		rn.log.WarnContext(ctx, "purge idempotency keys", "error", err)
	} else if n > 0 {
		rn.log.DebugContext(ctx, "purged idempotency keys", "count", n)
	}
}
