package oauthx

import (
	"crypto/rand"
	"encoding/base64"

	"golang.org/x/oauth2"
)

// NewPKCE returns a fresh RFC 7636 code verifier (32 random octets,
// base64url-encoded, 43 characters of the unreserved set, §4.1) and its S256
// challenge (§4.2). The plain method is never used.
func NewPKCE() (verifier, challenge string) {
	verifier = oauth2.GenerateVerifier()
	return verifier, oauth2.S256ChallengeFromVerifier(verifier)
}

// RandomToken returns nbytes from crypto/rand encoded as unpadded base64url,
// for state, nonce and cookie values. Values below 16 bytes (128 bits, the
// floor of RFC 6749 §10.10) are raised to 16.
func RandomToken(nbytes int) string {
	nbytes = max(nbytes, 16)
	b := make([]byte, nbytes)
	rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
