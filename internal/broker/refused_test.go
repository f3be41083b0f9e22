package broker_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/sandbox"
)

// TestDelegatedWrongSecret: when the vendor refuses the integration's
// secret at the code exchange, the end user is told the application's
// configuration is at fault (provider_rejected_credentials, not "start
// again"), is given the way back to the application, and the integration
// is marked broken; no connection is stored and the secret is never shown.
func TestDelegatedWrongSecret(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const back = "https://app.example.com/integrations/pax8"
	f := e.begin(ctx, broker.LinkRequest{IntegrationID: e.integ.ID, ReturnTo: back})
	q := e.consent(ctx, f, true)
	// The vendor's registration changed under the integration: the secret
	// grantd holds is now wrong.
	e.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: e.integ.ClientID, Secret: "rotated-at-the-vendor", RedirectURIs: []string{e.integ.RedirectURI}})
	_, err := e.b.Callback(ctx, e.integ.ID, q, f.browser)
	be, ok := errors.AsType[*broker.Error](err)
	if !ok || be.Code != broker.CodeRejectedCredentials {
		t.Fatalf("Callback with a wrong secret = %v, want provider_rejected_credentials", err)
	}
	if strings.Contains(be.Msg, "start again") || !strings.Contains(be.Msg, "not something you did") {
		t.Errorf("message %q must say it is the application's configuration, not the user, and not to start again", be.Msg)
	}
	if strings.Contains(be.Error(), secret) {
		t.Errorf("error %q reveals the secret", be.Error())
	}
	if be.ReturnTo != back {
		t.Errorf("ReturnTo = %q, want %q", be.ReturnTo, back)
	}
	if n := len(e.connections()); n != 0 {
		t.Errorf("stored %d connections, want 0", n)
	}
	in, err := e.st.GetIntegration(ctx, e.integ.ID)
	if err != nil {
		t.Fatal(err)
	}
	if in.LastError == "" || in.BrokenAt.IsZero() {
		t.Errorf("integration last_error %q, broken_at %v; want both set", in.LastError, in.BrokenAt)
	}

	// (Transient failures keep their "start again" wording: see
	// TestTokenResponseFaults.) With the secret restored, a connect works
	// and clears the mark.
	e.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: e.integ.ClientID, Secret: secret, RedirectURIs: []string{e.integ.RedirectURI}})
	c := e.connect(ctx)
	if c.ID == "" {
		t.Fatal("no connection with the secret restored")
	}
	in, _ = e.st.GetIntegration(ctx, e.integ.ID)
	if in.LastError != "" || !in.BrokenAt.IsZero() {
		t.Errorf("after a successful connect: last_error %q, broken_at %v; want cleared", in.LastError, in.BrokenAt)
	}
}
