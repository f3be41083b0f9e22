package oauthx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultJWKSRefetchInterval is the least time between two JWKS fetches of
// one [IDVerifier]: a storm of id_tokens with unknown key ids causes at most
// one fetch per interval (OIDC-13).
const DefaultJWKSRefetchInterval = 10 * time.Second

// jwksTransport sits under go-oidc's RemoteKeySet. It throttles fetches to
// one per interval, answering from the last good key set in between, and it
// drops keys that cannot be parsed or cannot verify (private, symmetric or
// encryption keys) so that one bad key does not make the whole set unusable
// (OIDC-14). It is safe for concurrent use.
type jwksTransport struct {
	base     http.RoundTripper
	now      func() time.Time
	interval time.Duration

	mu          sync.Mutex
	lastAttempt time.Time
	body        []byte // the last good, filtered key set
	fetches     int    // network fetches made, for tests and metrics
	lastErr     error  // the last fetch's failure; nil after a success
}

// RoundTrip implements [http.RoundTripper].
func (t *jwksTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.lastAttempt.IsZero() && t.now().Sub(t.lastAttempt) < t.interval {
		if t.body == nil {
			return nil, errors.New("jwks refetch throttled after a failed fetch")
		}
		return t.answer(req, t.body), nil
	}
	t.lastAttempt = t.now()
	t.fetches++
	body, err := t.fetch(req)
	t.lastErr = err
	if err != nil {
		return nil, err
	}
	t.body = body
	return t.answer(req, body), nil
}

// fetch gets the key set from the network and filters it.
func (t *jwksTransport) fetch(req *http.Request) ([]byte, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks endpoint answered %d", resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read jwks: %w", err)
	}
	return filterJWKS(raw)
}

// unavailable reports whether the key set could not be fetched the last
// time it was asked for.
func (t *jwksTransport) unavailable() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastErr != nil
}

// fetchCount returns how many times the network was asked for the key set.
func (t *jwksTransport) fetchCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fetches
}

func (t *jwksTransport) answer(req *http.Request, body []byte) *http.Response {
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// filterJWKS keeps the keys of a JWK Set (RFC 7517 §5) that parse and are
// public signature keys, ignoring the rest as §5 recommends.
func filterJWKS(raw []byte) ([]byte, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, errors.New("jwks is not a JSON key set")
	}
	kept := make([]json.RawMessage, 0, len(set.Keys))
	for _, k := range set.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k); err != nil {
			continue
		}
		if !jwk.Valid() || !jwk.IsPublic() || jwk.Use == "enc" {
			continue
		}
		kept = append(kept, k)
	}
	if len(kept) == 0 {
		return nil, errors.New("jwks has no usable signature key")
	}
	return json.Marshal(map[string]any{"keys": kept})
}
