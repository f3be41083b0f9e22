package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBuildServesConsole: /console/ is mounted, sends a visitor without a
// session to its sign-in page, and /console redirects to /console/.
func TestBuildServesConsole(t *testing.T) {
	te := newTestEnv(t)
	a, err := Build(t.Context(), te.config(t, "client-1", "secret-1"), nil, testLogger(t))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/console/signin" || !strings.Contains(string(b), `name="key"`) {
		t.Errorf("GET /console ended at %s with %d, want the sign-in form", resp.Request.URL.Path, resp.StatusCode)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
}
