package sandboxtest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/grantd/grantd/internal/partner"
	"github.com/grantd/grantd/internal/sandbox"
)

// Start runs a sandbox on an httptest server on loopback, sets its base URL,
// and closes it when the test ends. Logs go to t.Output() unless
// opts.Logger is set. It returns the server and the pax8 endpoints.
func Start(t testing.TB, opts sandbox.Options) (*sandbox.Server, sandbox.Endpoints) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := sandbox.New(opts)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	s.SetBaseURL(ts.URL)
	return s, s.Endpoints(sandbox.Pax8)
}

// ErrRefused is returned by [Login] when the sandbox refuses the login
// (wrong password, vendor account) or shows an error page instead of the
// next form. It is [partner.ErrRefused].
var ErrRefused = partner.ErrRefused

// Login plays the partner at the sandbox's login and consent pages; it is
// [partner.Login], kept here for the tests that drive the sandbox.
func Login(ctx context.Context, client *http.Client, authorizeURL, username, password string, allow bool) (*url.URL, error) {
	return partner.Login(ctx, client, authorizeURL, username, password, allow)
}
