package oauthx

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"testing"
)

var unreserved = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

// TestNewPKCE covers SEC-04 and SEC-05: S256 challenges from 32-octet
// verifiers of the unreserved set, distinct per flow.
func TestNewPKCE(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	for range n {
		v, c := NewPKCE()
		if !unreserved.MatchString(v) {
			t.Fatalf("SEC-04: verifier %q is not 43-128 unreserved characters", v)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(raw) != 32 {
			t.Fatalf("SEC-04: verifier does not decode to 32 octets (%d, %v)", len(raw), err)
		}
		sum := sha256.Sum256([]byte(v))
		if want := base64.RawURLEncoding.EncodeToString(sum[:]); c != want {
			t.Fatalf("SEC-04: challenge %q, want BASE64URL(SHA256(verifier)) %q", c, want)
		}
		if seen[c] {
			t.Fatalf("SEC-05: challenge repeated after %d flows", len(seen))
		}
		seen[c] = true
	}
}

// TestRandomToken covers SEC-01's entropy floor: at least 128 bits, no
// repeats over 10,000 values.
func TestRandomToken(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		s := RandomToken(32)
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			t.Fatalf("RandomToken(32) = %q, want 32 octets base64url (%v)", s, err)
		}
		if seen[s] {
			t.Fatal("SEC-01: RandomToken repeated")
		}
		seen[s] = true
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(RandomToken(4)); len(raw) != 16 {
		t.Errorf("RandomToken(4) gave %d octets, want the 16-octet floor", len(raw))
	}
}
