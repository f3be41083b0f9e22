package connectresult

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Outcome says how a connect flow ended.
type Outcome string

// The outcomes grantd reports.
const (
	// Connected: a new connection was made.
	Connected Outcome = "connected"
	// Reauthorized: an existing connection got a new grant.
	Reauthorized Outcome = "reauthorized"
	// Denied: the user declined at the provider (error access_denied).
	Denied Outcome = "denied"
	// Error: the flow failed; Result.Error holds the code.
	Error Outcome = "error"
)

// Query parameter names grantd adds to return_to.
const (
	ParamConnectionID = "connection_id"
	ParamOutcome      = "outcome"
	ParamError        = "error"
	ParamSessionID    = "session_id"
	ParamIssuedAt     = "issued_at"
	ParamSignature    = "signature"
)

// params are every parameter the signature covers, in signing order.
var params = []string{ParamOutcome, ParamConnectionID, ParamError, ParamSessionID, ParamIssuedAt}

// label separates this MAC from any other use of the key.
const label = "grantd connect result v1"

// Result is one signed connect result.
type Result struct {
	Outcome Outcome
	// ConnectionID is the connection made or reauthorized; for a failed
	// reauthorization, the connection it was for; otherwise "".
	ConnectionID string
	// Error is grantd's stable error code (access_denied, state_expired,
	// invalid_token_response, …) when Outcome is Denied or Error.
	Error string
	// SessionID identifies the authorization: one flow yields one result,
	// so a second result with the same SessionID is a replay.
	SessionID string
	// IssuedAt is when grantd signed the result (whole seconds).
	IssuedAt time.Time
}

// Errors Verify returns.
var (
	ErrMissing   = errors.New("connectresult: no signed result in the query")
	ErrSignature = errors.New("connectresult: signature does not match")
	ErrExpired   = errors.New("connectresult: result is too old or from the future")
	ErrReplayed  = errors.New("connectresult: result was already used")
	ErrNoKey     = errors.New("connectresult: no key")
)

// DeriveKey returns the result key of tenantID under secret, grantd's
// result secret: HMAC-SHA256(secret, "grantd connect result v1\x00" + tenantID).
func DeriveKey(secret []byte, tenantID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label + "\x00" + tenantID))
	return m.Sum(nil)
}

// Sign returns r's query parameters with their signature under key.
func Sign(key []byte, r Result) url.Values {
	v := url.Values{}
	v.Set(ParamOutcome, string(r.Outcome))
	v.Set(ParamConnectionID, r.ConnectionID)
	v.Set(ParamError, r.Error)
	v.Set(ParamSessionID, r.SessionID)
	v.Set(ParamIssuedAt, strconv.FormatInt(r.IssuedAt.Unix(), 10))
	for _, p := range params {
		if v.Get(p) == "" {
			v.Del(p)
		}
	}
	v.Set(ParamSignature, base64.RawURLEncoding.EncodeToString(mac(key, v)))
	return v
}

// AppendTo returns rawURL with r's signed parameters added to its query;
// parameters of the same names already there are removed first.
func AppendTo(rawURL string, key []byte, r Result) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for _, p := range append(params, ParamSignature) {
		q.Del(p)
	}
	maps.Copy(q, Sign(key, r))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// mac is the HMAC of the signed parameters: the label, then each
// parameter as name=value on its own line, in a fixed order.
func mac(key []byte, v url.Values) []byte {
	m := hmac.New(sha256.New, key)
	var b strings.Builder
	b.WriteString(label)
	for _, p := range params {
		b.WriteString("\n" + p + "=" + v.Get(p))
	}
	m.Write([]byte(b.String()))
	return m.Sum(nil)
}

// Verifier checks results. Key is required; the zero values of the other
// fields mean a 10-minute MaxAge, time.Now and an in-memory replay check.
// A Verifier is safe for concurrent use.
type Verifier struct {
	// Key is the tenant's result key.
	Key []byte
	// MaxAge bounds how old a result may be (default 10 min). A result
	// more than a minute in the future is refused too.
	MaxAge time.Duration
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Seen, when set, records sessionID and reports whether it was
	// recorded before; an application with several processes backs it by
	// its database. When nil, the Verifier remembers session ids in memory
	// for MaxAge.
	Seen func(sessionID string) bool

	mu   sync.Mutex
	seen map[string]time.Time
}

// Verify checks q's signature, age and session id, in that order, and
// returns the result. A result passes once: verifying the same one again
// is ErrReplayed. Nothing in q should be used when Verify fails.
func (vf *Verifier) Verify(q url.Values) (Result, error) {
	if len(vf.Key) == 0 {
		return Result{}, ErrNoKey
	}
	sig := q.Get(ParamSignature)
	if sig == "" || q.Get(ParamOutcome) == "" {
		return Result{}, ErrMissing
	}
	for _, p := range append(params, ParamSignature) {
		if len(q[p]) > 1 {
			return Result{}, ErrSignature
		}
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(vf.Key, q)) {
		return Result{}, ErrSignature
	}
	sec, err := strconv.ParseInt(q.Get(ParamIssuedAt), 10, 64)
	if err != nil {
		return Result{}, ErrSignature
	}
	r := Result{
		Outcome:      Outcome(q.Get(ParamOutcome)),
		ConnectionID: q.Get(ParamConnectionID),
		Error:        q.Get(ParamError),
		SessionID:    q.Get(ParamSessionID),
		IssuedAt:     time.Unix(sec, 0).UTC(),
	}
	now, maxAge := vf.now(), vf.maxAge()
	if now.Sub(r.IssuedAt) > maxAge || r.IssuedAt.Sub(now) > time.Minute {
		return Result{}, ErrExpired
	}
	if r.SessionID == "" || vf.replayed(r.SessionID, now, maxAge) {
		return Result{}, ErrReplayed
	}
	return r, nil
}

func (vf *Verifier) now() time.Time {
	if vf.Now != nil {
		return vf.Now()
	}
	return time.Now()
}

func (vf *Verifier) maxAge() time.Duration {
	if vf.MaxAge > 0 {
		return vf.MaxAge
	}
	return 10 * time.Minute
}

// replayed records id and reports whether it was seen before.
func (vf *Verifier) replayed(id string, now time.Time, maxAge time.Duration) bool {
	if vf.Seen != nil {
		return vf.Seen(id)
	}
	vf.mu.Lock()
	defer vf.mu.Unlock()
	if vf.seen == nil {
		vf.seen = map[string]time.Time{}
	}
	for k, t := range vf.seen {
		if now.Sub(t) > 2*maxAge {
			delete(vf.seen, k)
		}
	}
	if _, ok := vf.seen[id]; ok {
		return true
	}
	vf.seen[id] = now
	return false
}
