package oauthx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// A tiny OpenID issuer for the tests: keys, a JWKS endpoint that counts its
// fetches and can be switched, and a signer.

const (
	testClient = "client-1"
	testNonce  = "nonce-1"
)

// testKeys are made once: RSA key generation is slow.
var testKeys = sync.OnceValue(func() struct {
	rsa1, rsa2, rsa3 *rsa.PrivateKey
	ec               *ecdsa.PrivateKey
} {
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return struct {
		rsa1, rsa2, rsa3 *rsa.PrivateKey
		ec               *ecdsa.PrivateKey
	}{gen(), gen(), gen(), ec}
})

// testIssuer serves a JWKS and counts fetches.
type testIssuer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	jwks    []byte
	fetches atomic.Int32
}

func newTestIssuer(t *testing.T, keys ...json.RawMessage) *testIssuer {
	t.Helper()
	is := &testIssuer{}
	is.setKeys(t, keys...)
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		body := is.jwks
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(is.srv.Close)
	return is
}

func (is *testIssuer) setKeys(t *testing.T, keys ...json.RawMessage) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	is.mu.Lock()
	is.jwks = b
	is.mu.Unlock()
}

func (is *testIssuer) jwksURL() string { return is.srv.URL + "/jwks" }

// publicJWK is the public half of key as a JWK with kid and alg.
func publicJWK(t *testing.T, key any, kid, alg string) json.RawMessage {
	t.Helper()
	var pub any
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// badJWK cannot be parsed (n is not base64url): go-oidc alone would reject
// the whole set.
var badJWK = json.RawMessage(`{"kty":"RSA","kid":"bad","use":"sig","n":"!!!not-base64!!!","e":"AQAB"}`)

// claims is an id_token payload.
type claims map[string]any

// baseClaims are valid for testClient at now.
func baseClaims(now time.Time) claims {
	return claims{
		"iss":   testIssuerID,
		"sub":   "user-1",
		"aud":   testClient,
		"exp":   now.Add(time.Hour).Unix(),
		"iat":   now.Unix(),
		"nonce": testNonce,
		"email": "u@example.com",
		"name":  "U One",
	}
}

const testIssuerID = "https://issuer.example/"

// sign makes a compact JWS of c with key (a private key, or []byte for
// HMAC), alg and kid (none when empty).
func sign(t *testing.T, c claims, key any, alg jose.SignatureAlgorithm, kid string) string {
	t.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var sk jose.SigningKey
	if kid != "" {
		sk = jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}
	} else {
		sk = jose.SigningKey{Algorithm: alg, Key: key}
	}
	signer, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unsigned makes an alg none token (OIDC-09).
func unsigned(t *testing.T, c claims) string {
	t.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}

// corrupt flips one character of the signature (OIDC-08).
func corrupt(tok string) string {
	i := strings.LastIndex(tok, ".") + 5
	b := []byte(tok)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// publicKeyBytes is the RSA public key in DER, the "secret" of an alg
// confusion attack (OIDC-10).
func publicKeyBytes(t *testing.T, k *rsa.PrivateKey) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// atHash is OIDC Core §3.1.3.8's at_hash for an RS256 token.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
