package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// signingKey is one RSA key with its RFC 7638 thumbprint as kid.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("thumbprint: %w", err)
	}
	return &signingKey{kid: base64.RawURLEncoding.EncodeToString(tp), priv: priv}, nil
}

// keySet holds the published keys and the current signing key. Rotation
// publishes a new key and signs with it while older keys stay published, as
// OIDC Core §10.1.1 expects. It is safe for concurrent use.
type keySet struct {
	mu        sync.Mutex
	current   *signingKey
	published []*signingKey
}

func newKeySet() (*keySet, error) {
	k, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	return &keySet{current: k, published: []*signingKey{k}}, nil
}

func (ks *keySet) signer() *signingKey {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.current
}

// rotate publishes a new key and makes it the signing key.
func (ks *keySet) rotate() (*signingKey, error) {
	k, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.current = k
	ks.published = append(ks.published, k)
	return k, nil
}

// jwks returns the JSON Web Key Set document (RFC 7517 §5). With bad, an
// unparseable RSA key is listed before the good ones (OIDC-14).
func (ks *keySet) jwks(bad bool) ([]byte, error) {
	ks.mu.Lock()
	keys := append([]*signingKey(nil), ks.published...)
	ks.mu.Unlock()
	var out []json.RawMessage
	if bad {
		out = append(out, json.RawMessage(`{"kty":"RSA","kid":"broken-key","use":"sig","alg":"RS256","n":"!!not-base64url!!","e":"AQAB"}`))
	}
	for _, k := range keys {
		b, err := json.Marshal(jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"})
		if err != nil {
			return nil, fmt.Errorf("marshal jwk: %w", err)
		}
		out = append(out, b)
	}
	return json.Marshal(map[string]any{"keys": out})
}

func (ks *keySet) lookup(kid string) []*signingKey {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if kid == "" {
		return append([]*signingKey(nil), ks.published...)
	}
	for _, k := range ks.published {
		if k.kid == kid {
			return []*signingKey{k}
		}
	}
	return nil
}

var errBadToken = errors.New("invalid token")

// verify checks an RS256 JWT signed by one of the published keys and returns
// its claims. Time-based claims are left to the caller.
func (ks *keySet) verify(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a compact jws", errBadToken)
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %v", errBadToken, err)
	}
	if hdr.Alg != "RS256" {
		return nil, fmt.Errorf("%w: alg %q", errBadToken, hdr.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature encoding", errBadToken)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	ok := false
	for _, k := range ks.lookup(hdr.Kid) {
		if rsa.VerifyPKCS1v15(&k.priv.PublicKey, crypto.SHA256, digest[:], sig) == nil {
			ok = true
			break
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: signature", errBadToken)
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", errBadToken, err)
	}
	return claims, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
