package sandbox

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
)

// jwtAlg is how a token is signed. Only algRS256 is honest; the others exist
// for the id_token faults (OIDC-08, OIDC-09, OIDC-10).
type jwtAlg int

const (
	algRS256 jwtAlg = iota
	algNone
	algHS256PublicKey
)

// signJWT serialises claims as a compact JWS (RFC 7515 §3.1). With noKid the
// header carries no kid (OIDC-11).
func signJWT(key *signingKey, alg jwtAlg, noKid bool, claims map[string]any) (string, error) {
	hdr := map[string]any{"typ": "JWT"}
	switch alg {
	case algRS256:
		hdr["alg"] = "RS256"
	case algNone:
		hdr["alg"] = "none"
	case algHS256PublicKey:
		hdr["alg"] = "HS256"
	}
	if !noKid && alg != algNone {
		hdr["kid"] = key.kid
	}
	h, err := json.Marshal(hdr)
	if err != nil {
		return "", fmt.Errorf("marshal jwt header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("marshal jwt claims: %w", err)
	}
	input := b64(h) + "." + b64(c)
	var sig []byte
	switch alg {
	case algRS256:
		d := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.priv, crypto.SHA256, d[:])
		if err != nil {
			return "", fmt.Errorf("sign jwt: %w", err)
		}
	case algHS256PublicKey:
		// Algorithm confusion: the public key, in the PEM form a naive
		// verifier would load, used as the HMAC secret.
		der, err := x509.MarshalPKIXPublicKey(&key.priv.PublicKey)
		if err != nil {
			return "", fmt.Errorf("marshal public key: %w", err)
		}
		mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		mac.Write([]byte(input))
		sig = mac.Sum(nil)
	case algNone:
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// halfHash is the at_hash of OIDC Core §3.1.3.6 for RS256: the base64url
// encoding of the left half of SHA-256 of the token.
func halfHash(token string) string {
	d := sha256.Sum256([]byte(token))
	return b64(d[:len(d)/2])
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return b64(b)
}
