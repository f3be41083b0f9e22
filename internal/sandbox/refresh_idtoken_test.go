package sandbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/grantd/grantd/internal/sandbox"
)

// TestRefreshedIDTokenFaults queues each id_token fault for refresh_token
// answers only (OIDC-15, OIDC Core §12.2): the code exchange before it is
// honest, the refreshed id_token misbehaves, and go-oidc, an independent
// verifier, rejects it for the fault's reason. A refreshed id_token with
// another sub is well-formed, so go-oidc accepts it and only the
// comparison with the original's sub, which §12.2 requires, catches it.
func TestRefreshedIDTokenFaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	ctx := e.ctx()
	for _, tc := range []struct {
		kind    string
		wantErr string // substring of go-oidc's error; "" means accepted
		expired bool   // want *oidc.TokenExpiredError
	}{
		{kind: "id_token_bad_signature", wantErr: "failed to verify signature"},    // OIDC-08
		{kind: "id_token_expired", expired: true},                                  // OIDC-05
		{kind: "id_token_wrong_aud", wantErr: "expected audience"},                 // OIDC-02
		{kind: "id_token_iss_mismatch", wantErr: "issued by a different provider"}, // OIDC-01
		{kind: "id_token_other_sub"},                                               // OIDC-15
	} {
		t.Run(tc.kind, func(t *testing.T) {
			if err := e.s.AddFault(sandbox.Fault{Kind: tc.kind, GrantType: "refresh_token"}); err != nil {
				t.Fatal(err)
			}
			// A fresh go-oidc provider per case: its own JWKS cache.
			prov, err := oidc.NewProvider(ctx, e.ep.Issuer)
			if err != nil {
				t.Fatal(err)
			}
			verifier := prov.Verifier(&oidc.Config{ClientID: clientID, Now: e.s.Now})
			first, _ := e.connect()
			orig, err := verifier.Verify(ctx, idToken(t, first))
			if err != nil {
				t.Fatalf("the code exchange's id_token was faulted too: %v", err)
			}
			tok, err := e.refresh(first.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			got, err := verifier.Verify(ctx, idToken(t, tok))
			switch {
			case tc.expired:
				if _, ok := errors.AsType[*oidc.TokenExpiredError](err); !ok {
					t.Errorf("go-oidc on the refreshed id_token = %v, want TokenExpiredError", err)
				}
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("go-oidc on the refreshed id_token = %v, want an error mentioning %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("go-oidc on the refreshed id_token = %v, want it well-formed", err)
			case got.Subject == orig.Subject:
				t.Errorf("refreshed sub = original sub %q, want another", got.Subject)
			}
			// One use: the next refresh is honest.
			again, err := e.refresh(tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if idt, err := verifier.Verify(ctx, idToken(t, again)); err != nil || idt.Subject != orig.Subject {
				t.Errorf("next refresh's id_token = %v, %v; want verified with sub %q", idt, err, orig.Subject)
			}
		})
	}

	// JWKS unreachable: the refreshed id_token is honest but no key can be
	// fetched to check it, so go-oidc fails; once the JWKS answers again it
	// verifies.
	t.Run("jwks_unavailable", func(t *testing.T) {
		first, _ := e.connect()
		tok, err := e.refresh(first.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		prov, err := oidc.NewProvider(ctx, e.ep.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		verifier := prov.Verifier(&oidc.Config{ClientID: clientID, Now: e.s.Now})
		if err := e.s.AddFault(sandbox.Fault{Kind: "jwks_unavailable"}); err != nil {
			t.Fatal(err)
		}
		if _, err := verifier.Verify(ctx, idToken(t, tok)); err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("go-oidc with the JWKS unreachable = %v, want a 503 fetching keys", err)
		}
		if _, err := verifier.Verify(ctx, idToken(t, tok)); err != nil {
			t.Errorf("go-oidc once the JWKS answers = %v", err)
		}
		if err := e.s.AddFault(sandbox.Fault{Kind: "jwks_unavailable", GrantType: "refresh_token"}); err == nil {
			t.Error("jwks_unavailable with a grant_type was accepted")
		}
	})
}
