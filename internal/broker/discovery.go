package broker

import (
	"context"
	"sync"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
)

// discovered remembers providers whose discovery document has been checked.
type discovered struct {
	mu sync.Mutex
	ok map[string]bool
}

// checkDiscovery refuses to start an authorization with an OIDC provider
// whose discovery document names another issuer than the configured one
// (OIDC-16): id_tokens from it could never be verified, and a mismatch is
// how a mix-up or a misconfiguration shows. A success is remembered; a
// failure is retried on the next attempt, so an outage does not stick.
func (b *Broker) checkDiscovery(ctx context.Context, p provider.Provider) error {
	if !p.OIDC || p.Issuer == "" {
		return nil
	}
	b.disco.mu.Lock()
	done := b.disco.ok[p.Issuer]
	b.disco.mu.Unlock()
	if done {
		return nil
	}
	if err := oauthx.CheckDiscovery(ctx, b.hc, p.Issuer); err != nil {
		if oauthx.IsTransient(err) {
			return errorf(CodeUpstreamDown, err, "%s could not be reached; try again", p.DisplayName)
		}
		return errorf(CodeIssuerMismatch, err, "%s is misconfigured: its discovery document does not match the configured issuer", p.DisplayName)
	}
	b.disco.mu.Lock()
	if b.disco.ok == nil {
		b.disco.ok = map[string]bool{}
	}
	b.disco.ok[p.Issuer] = true
	b.disco.mu.Unlock()
	return nil
}
