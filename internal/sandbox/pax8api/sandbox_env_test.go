package pax8api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/pax8api"
	"github.com/grantd/grantd/pax8"
)

// sandboxAPI is the whole sandbox (token endpoint and bearer checks
// included) on a loopback server that counts the partner API requests, and
// an http.Client holding a client-credentials token for it, obtained with
// golang.org/x/oauth2 so that neither side checks itself.
type sandboxAPI struct {
	base     string       // the API base URL
	hc       *http.Client // adds the bearer token
	requests atomic.Int64 // requests under the API base
	// latency, in nanoseconds, is added before each API request is served,
	// standing in for the round trip to the real Pax8.
	latency atomic.Int64
}

func startSandbox(tb testing.TB, size pax8api.Size) *sandboxAPI {
	tb.Helper()
	sb, err := sandbox.New(sandbox.Options{
		APISize: size,
		Logger:  slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		tb.Fatalf("sandbox.New: %v", err)
	}
	s := &sandboxAPI{}
	var apiPath string
	h := sb.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiPath != "" && len(r.URL.Path) > len(apiPath) && r.URL.Path[:len(apiPath)] == apiPath {
			s.requests.Add(1)
			if d := s.latency.Load(); d > 0 {
				time.Sleep(time.Duration(d))
			}
		}
		h.ServeHTTP(w, r)
	}))
	tb.Cleanup(ts.Close)
	sb.SetBaseURL(ts.URL)
	ep := sb.Endpoints(sandbox.Pax8)
	u, err := url.Parse(ep.APIBaseURL)
	if err != nil {
		tb.Fatal(err)
	}
	apiPath = u.Path + "/"
	s.base = ep.APIBaseURL

	const id, secret = "bench-client", "bench-secret"
	sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: id, Secret: secret})
	cc := clientcredentials.Config{
		ClientID: id, ClientSecret: secret, TokenURL: ep.TokenURL,
		EndpointParams: url.Values{"audience": {"https://api.pax8.com"}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	// One token for the whole run; a fresh transport so that idle
	// connections do not leak between servers.
	ctx := tb.Context()
	tok, err := cc.Token(ctx)
	if err != nil {
		tb.Fatalf("client credentials token: %v", err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	tb.Cleanup(tr.CloseIdleConnections)
	s.hc = &http.Client{Transport: &oauth2.Transport{Source: oauth2.StaticTokenSource(tok), Base: tr}}
	return s
}

// client returns a pax8 client for the sandbox with the given concurrency.
func (s *sandboxAPI) client(concurrency int) *pax8.Client {
	return pax8.NewClient(s.hc, pax8.WithBaseURL(s.base), pax8.WithConcurrency(concurrency))
}
