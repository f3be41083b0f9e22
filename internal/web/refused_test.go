package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/sandbox"
)

// TestCallbackWrongSecret: when the vendor refuses the integration's
// secret at the code exchange, the page tells the end user the
// application's configuration is at fault (not them, and starting again
// will not help), gives the way back to the application, and shows no
// secret; nothing is stored.
func TestCallbackWrongSecret(t *testing.T) {
	e := newEnv(t)
	c := browser()
	cb := e.consent(c, e.start(c, e.link(broker.LinkRequest{ReturnTo: appURL})), true)
	e.sb.RegisterClient("pax8", sandbox.Client{ID: e.integ.ClientID, Secret: "rotated-at-the-vendor", RedirectURIs: []string{e.integ.RedirectURI}})
	p := get(t, c, "GET", cb)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("callback = %d, want 422: %s", p.status, p.body)
	}
	for _, want := range []string{"The application is not set up correctly", "not something you did", `id="not-yours"`, `href="` + appURL, "provider_rejected_credentials"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q:\n%s", want, p.body)
		}
	}
	for _, bad := range []string{"start again", "sandbox-client-secret", "rotated-at-the-vendor"} {
		if strings.Contains(p.body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if n := len(e.connections()); n != 0 {
		t.Errorf("stored %d connections, want 0", n)
	}
}
