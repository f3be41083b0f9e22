package sandbox_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
)

// TestIndexListsPersonalities: the index page names every personality's
// endpoints and the demo accounts of the ones with a login page.
func TestIndexListsPersonalities(t *testing.T) {
	s, _ := sandboxtest.Start(t, sandbox.Options{})
	base := strings.TrimSuffix(s.Issuer(sandbox.Pax8), "/pax8/")
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	for _, want := range []string{
		s.Endpoints(sandbox.Paxful).AuthorizeURL, s.Endpoints(sandbox.Daxko).TokenURL,
		s.Endpoints(sandbox.Pax8).APITokenURL, "trader@example-paxful.test", "partner@example-msp.test",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	if strings.Contains(page, "<code></code>") {
		t.Errorf("index shows an empty endpoint")
	}
}
