package oauthx

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

// TestVerify covers OIDC Core §3.1.3.7 for a code exchange, one row per
// checklist item (OIDC-01…12, 14, 18).
func TestVerify(t *testing.T) {
	k := testKeys()
	now := fixedNow
	const at = "access-token-1"
	rs := func(t *testing.T, c claims) string { return sign(t, c, k.rsa1, jose.RS256, "k1") }
	with := func(mut func(c claims)) func(t *testing.T) string {
		return func(t *testing.T) string {
			c := baseClaims(now)
			mut(c)
			return rs(t, c)
		}
	}
	tests := []struct {
		name    string
		token   func(t *testing.T) string
		jwks    func(t *testing.T) []json.RawMessage // nil: k1 only
		algs    []string
		trusted []string
		nonce   string // "-" means empty
		access  string
		wantErr bool
	}{
		{name: "valid", token: with(func(claims) {})},
		{name: "OIDC-01 other issuer", token: with(func(c claims) { c["iss"] = "https://evil.example/" }), wantErr: true},
		{name: "OIDC-01 issuer without trailing slash", token: with(func(c claims) { c["iss"] = "https://issuer.example" }), wantErr: true},
		{name: "OIDC-02 aud missing", token: with(func(c claims) { delete(c, "aud") }), wantErr: true},
		{name: "OIDC-02 aud wrong", token: with(func(c claims) { c["aud"] = "client-2" }), wantErr: true},
		{name: "OIDC-02 extra untrusted aud", token: with(func(c claims) { c["aud"] = []string{testClient, "https://evil.example"}; c["azp"] = testClient }), wantErr: true},
		{name: "OIDC-02 extra trusted aud with azp", token: with(func(c claims) { c["aud"] = []string{testClient, "https://api.pax8.com"}; c["azp"] = testClient }), trusted: []string{"https://api.pax8.com"}},
		{name: "OIDC-03 several aud without azp", token: with(func(c claims) { c["aud"] = []string{testClient, "https://api.pax8.com"} }), trusted: []string{"https://api.pax8.com"}, wantErr: true},
		{name: "OIDC-03 azp is another client", token: with(func(c claims) { c["azp"] = "client-2" }), wantErr: true},
		{name: "OIDC-03 azp is the client", token: with(func(c claims) { c["azp"] = testClient })},
		{name: "OIDC-04 sub missing", token: with(func(c claims) { delete(c, "sub") }), wantErr: true},
		{name: "OIDC-05 exp past leeway", token: with(func(c claims) { c["exp"] = now.Add(-61 * time.Second).Unix() }), wantErr: true},
		{name: "OIDC-05 exp within leeway", token: with(func(c claims) { c["exp"] = now.Add(-30 * time.Second).Unix() })},
		{name: "OIDC-05 exp missing", token: with(func(c claims) { delete(c, "exp") }), wantErr: true},
		{name: "OIDC-06 iat missing", token: with(func(c claims) { delete(c, "iat") }), wantErr: true},
		{name: "OIDC-06 iat far in the future", token: with(func(c claims) { c["iat"] = now.Add(2 * time.Minute).Unix() }), wantErr: true},
		{name: "OIDC-06 iat within leeway", token: with(func(c claims) { c["iat"] = now.Add(30 * time.Second).Unix() })},
		{name: "nbf in the future", token: with(func(c claims) { c["nbf"] = now.Add(10 * time.Minute).Unix() }), wantErr: true},
		{name: "OIDC-07 nonce missing", token: with(func(c claims) { delete(c, "nonce") }), wantErr: true},
		{name: "OIDC-07 nonce different", token: with(func(c claims) { c["nonce"] = "nonce-2" }), wantErr: true},
		{name: "OIDC-07 no nonce to compare", token: with(func(claims) {}), nonce: "-", wantErr: true},
		{name: "OIDC-08 RS256 signature corrupted", token: func(t *testing.T) string { return corrupt(rs(t, baseClaims(now))) }, wantErr: true},
		{
			name:    "OIDC-08 ES256 signature corrupted",
			token:   func(t *testing.T) string { return corrupt(sign(t, baseClaims(now), k.ec, jose.ES256, "e1")) },
			jwks:    func(t *testing.T) []json.RawMessage { return []json.RawMessage{publicJWK(t, k.ec, "e1", "ES256")} },
			algs:    []string{"RS256", "ES256"},
			wantErr: true,
		},
		{
			name:  "ES256 allowed and valid",
			token: func(t *testing.T) string { return sign(t, baseClaims(now), k.ec, jose.ES256, "e1") },
			jwks:  func(t *testing.T) []json.RawMessage { return []json.RawMessage{publicJWK(t, k.ec, "e1", "ES256")} },
			algs:  []string{"RS256", "ES256"},
		},
		{name: "OIDC-08 signed by an unpublished key", token: func(t *testing.T) string { return sign(t, baseClaims(now), k.rsa2, jose.RS256, "k1") }, wantErr: true},
		{name: "OIDC-09 alg none", token: func(t *testing.T) string { return unsigned(t, baseClaims(now)) }, wantErr: true},
		{name: "OIDC-09 alg none even if configured", token: func(t *testing.T) string { return unsigned(t, baseClaims(now)) }, algs: []string{"none"}, wantErr: true},
		{
			name: "OIDC-10 HS256 keyed with the public key",
			token: func(t *testing.T) string {
				return sign(t, baseClaims(now), publicKeyBytes(t, k.rsa1), jose.HS256, "k1")
			},
			algs:    []string{"HS256", "RS256"},
			wantErr: true,
		},
		{
			name:    "OIDC-10 ES256 not in allowlist",
			token:   func(t *testing.T) string { return sign(t, baseClaims(now), k.ec, jose.ES256, "e1") },
			jwks:    func(t *testing.T) []json.RawMessage { return []json.RawMessage{publicJWK(t, k.ec, "e1", "ES256")} },
			wantErr: true,
		},
		{name: "OIDC-11 no kid single key", token: func(t *testing.T) string { return sign(t, baseClaims(now), k.rsa1, jose.RS256, "") }},
		{
			name:  "OIDC-12 no kid several keys",
			token: func(t *testing.T) string { return sign(t, baseClaims(now), k.rsa2, jose.RS256, "") },
			jwks: func(t *testing.T) []json.RawMessage {
				return []json.RawMessage{publicJWK(t, k.rsa1, "k1", "RS256"), publicJWK(t, k.rsa2, "k2", "RS256")}
			},
		},
		{
			name:  "OIDC-14 unparseable key beside a good one",
			token: with(func(claims) {}),
			jwks: func(t *testing.T) []json.RawMessage {
				return []json.RawMessage{badJWK, publicJWK(t, k.rsa1, "k1", "RS256")}
			},
		},
		{name: "OIDC-18 at_hash matches", token: with(func(c claims) { c["at_hash"] = atHash(at) }), access: at},
		{name: "OIDC-18 at_hash wrong", token: with(func(c claims) { c["at_hash"] = atHash("other-token") }), access: at, wantErr: true},
		{name: "OIDC-18 at_hash without access token", token: with(func(c claims) { c["at_hash"] = atHash(at) }), wantErr: true},
		{name: "empty token", token: func(*testing.T) string { return "" }, wantErr: true},
		{name: "garbage token", token: func(*testing.T) string { return "a.b.c" }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := []json.RawMessage{publicJWK(t, k.rsa1, "k1", "RS256")}
			if tt.jwks != nil {
				keys = tt.jwks(t)
			}
			is := newTestIssuer(t, keys...)
			v := NewIDVerifier(t.Context(), is.srv.Client(), testIssuerID, is.jwksURL(), testClient, tt.algs,
				func() time.Time { return now }, WithTrustedAudiences(tt.trusted...))
			nonce := testNonce
			if tt.nonce == "-" {
				nonce = ""
			}
			got, err := v.Verify(t.Context(), tt.token(t), nonce, tt.access)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Verify succeeded, want an error")
				}
				if !errors.Is(err, ErrInvalidIDToken) {
					t.Errorf("Verify error %q does not wrap ErrInvalidIDToken", err)
				}
				t.Logf("Verify: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Subject != "user-1" || got.Issuer != testIssuerID || got.Nonce != testNonce {
				t.Errorf("Verify = %+v, want sub user-1, iss %s, nonce %s", got, testIssuerID, testNonce)
			}
		})
	}
}

func TestVerifyClaims(t *testing.T) {
	k := testKeys()
	is := newTestIssuer(t, publicJWK(t, k.rsa1, "k1", "RS256"))
	v := NewIDVerifier(t.Context(), is.srv.Client(), testIssuerID, is.jwksURL(), testClient, nil, func() time.Time { return fixedNow })
	c := baseClaims(fixedNow)
	c["azp"] = testClient
	c["auth_time"] = fixedNow.Add(-time.Minute).Unix()
	c["at_hash"] = atHash("at")
	got, err := v.Verify(t.Context(), sign(t, c, k.rsa1, jose.RS256, "k1"), testNonce, "at")
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := &IDClaims{
		Issuer: testIssuerID, Subject: "user-1", Nonce: testNonce, AuthorizedParty: testClient,
		Email: "u@example.com", Name: "U One", Audience: []string{testClient},
		IssuedAt: fixedNow, Expiry: fixedNow.Add(time.Hour), AuthTime: fixedNow.Add(-time.Minute), AtHash: atHash("at"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Verify (-want +got):\n%s", diff)
	}
}

// TestJWKSRotation covers OIDC-13: a rotated key is accepted after exactly
// one refetch, and a storm of unknown key ids causes at most one fetch per
// interval.
func TestJWKSRotation(t *testing.T) {
	k := testKeys()
	is := newTestIssuer(t, publicJWK(t, k.rsa1, "k1", "RS256"))
	var clock atomic.Int64
	clock.Store(fixedNow.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	advance := func(d time.Duration) { clock.Add(int64(d)) }
	v := NewIDVerifier(t.Context(), is.srv.Client(), testIssuerID, is.jwksURL(), testClient, nil, now,
		WithJWKSRefetchInterval(30*time.Second))

	verify := func(key any, kid string) error {
		_, err := v.Verify(t.Context(), sign(t, baseClaims(now()), key, jose.RS256, kid), testNonce, "")
		return err
	}
	if err := verify(k.rsa1, "k1"); err != nil {
		t.Fatalf("first login: %v", err)
	}
	if err := verify(k.rsa1, "k1"); err != nil {
		t.Fatalf("second login: %v", err)
	}
	if got := is.fetches.Load(); got != 1 {
		t.Fatalf("JWKS fetches after two logins = %d, want 1 (cached)", got)
	}

	// The issuer rotates between logins.
	advance(time.Hour)
	is.setKeys(t, publicJWK(t, k.rsa2, "k2", "RS256"))
	if err := verify(k.rsa2, "k2"); err != nil {
		t.Fatalf("login after rotation: %v", err)
	}
	if got := is.fetches.Load(); got != 2 {
		t.Errorf("JWKS fetches after rotation = %d, want 2 (exactly one refetch)", got)
	}

	// A storm of tokens with unknown key ids, concurrently.
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for range 50 {
		wg.Go(func() {
			if verify(k.rsa3, "unknown") == nil {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	if got := accepted.Load(); got != 0 {
		t.Errorf("storm: %d tokens from an unpublished key accepted, want 0", got)
	}
	if got := is.fetches.Load(); got != 2 {
		t.Errorf("JWKS fetches after a storm within the interval = %d, want 2", got)
	}
	if err := verify(k.rsa2, "k2"); err != nil {
		t.Errorf("login after the storm: %v", err)
	}

	// After the interval one more fetch is allowed, and only one.
	advance(31 * time.Second)
	for range 10 {
		verify(k.rsa3, "unknown")
	}
	if got := is.fetches.Load(); got != 3 {
		t.Errorf("JWKS fetches after the interval = %d, want 3", got)
	}
	if got := v.jwks.fetchCount(); got != 3 {
		t.Errorf("jwksTransport.fetchCount = %d, want 3", got)
	}
}

// TestVerifyRefreshed covers OIDC-15 (OIDC Core §12.2).
func TestVerifyRefreshed(t *testing.T) {
	k := testKeys()
	is := newTestIssuer(t, publicJWK(t, k.rsa1, "k1", "RS256"))
	now := fixedNow
	v := NewIDVerifier(t.Context(), is.srv.Client(), testIssuerID, is.jwksURL(), testClient, nil,
		func() time.Time { return now }, WithTrustedAudiences("https://api.pax8.com"))
	authTime := fixedNow.Add(-time.Hour).Unix()
	orig := baseClaims(fixedNow.Add(-30 * time.Minute))
	orig["azp"] = testClient
	orig["auth_time"] = authTime
	original, err := v.Verify(t.Context(), sign(t, orig, k.rsa1, jose.RS256, "k1"), testNonce, "")
	if err != nil {
		t.Fatalf("Verify original: %v", err)
	}
	refreshed := func(mut func(c claims)) claims {
		c := baseClaims(now)
		c["azp"] = testClient
		c["auth_time"] = authTime
		delete(c, "nonce")
		mut(c)
		return c
	}
	tests := []struct {
		name    string
		c       claims
		wantErr bool
	}{
		{"OIDC-15 same identity, no nonce", refreshed(func(claims) {}), false},
		{"OIDC-15 original nonce repeated", refreshed(func(c claims) { c["nonce"] = testNonce }), false},
		{"OIDC-15 auth_time omitted", refreshed(func(c claims) { delete(c, "auth_time") }), false},
		{"OIDC-15 other nonce", refreshed(func(c claims) { c["nonce"] = "nonce-2" }), true},
		{"OIDC-15 other sub", refreshed(func(c claims) { c["sub"] = "user-2" }), true},
		{"OIDC-15 other iss", refreshed(func(c claims) { c["iss"] = "https://issuer.example" }), true},
		{"OIDC-15 other aud", refreshed(func(c claims) { c["aud"] = []string{testClient, "https://api.pax8.com"} }), true},
		{"OIDC-15 azp omitted", refreshed(func(c claims) { delete(c, "azp") }), true},
		{"OIDC-15 other auth_time", refreshed(func(c claims) { c["auth_time"] = authTime + 60 }), true},
		{"OIDC-15 expired", refreshed(func(c claims) { c["exp"] = now.Add(-time.Hour).Unix() }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.VerifyRefreshed(t.Context(), sign(t, tt.c, k.rsa1, jose.RS256, "k1"), original, "")
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("VerifyRefreshed error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
	if _, err := v.VerifyRefreshed(t.Context(), sign(t, refreshed(func(claims) {}), k.rsa1, jose.RS256, "k1"), nil, ""); err == nil {
		t.Error("VerifyRefreshed with nil original succeeded")
	}
}
