package broker_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// gate is a token endpoint in front of the sandbox's that can hold one
// refresh request and then answer it with a chosen response, to stage
// races deterministically.
type gate struct {
	mu     sync.Mutex
	armed  bool
	held   chan struct{}
	answer chan gateAnswer
}

type gateAnswer struct {
	body   string
	status int
}

func newGate() *gate {
	return &gate{held: make(chan struct{}), answer: make(chan gateAnswer, 1)}
}

// front starts the gate forwarding to target and returns its URL.
func (g *gate) front(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.Out.URL = u
		r.Out.Host = u.Host
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if g.take() && isRefresh(body) {
			close(g.held)
			a := <-g.answer
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(a.status)
			io.WriteString(w, a.body)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path
}

func isRefresh(body []byte) bool {
	s := string(body)
	return strings.Contains(s, `"grant_type":"refresh_token"`) || strings.Contains(s, "grant_type=refresh_token")
}

func (g *gate) take() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	armed := g.armed
	g.armed = false
	return armed
}

func (g *gate) holdNextRefresh() {
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
}

func (g *gate) waitHeld() { <-g.held }

func (g *gate) release(body string, status int) { g.answer <- gateAnswer{body: body, status: status} }

// heldRefresh connects a partner through a gated token endpoint, expires
// the token, and starts a Token call whose refresh request the gate holds.
// The call's result arrives on done once the test releases the gate.
func heldRefresh(t *testing.T) (*env, *gate, store.Connection, <-chan error) {
	t.Helper()
	g := newGate()
	e := newEnv(t, withProvider(func(p *provider.Provider) { p.TokenURL = g.front(t, p.TokenURL) }))
	c := e.connect(t.Context())
	e.expire()
	g.holdNextRefresh()
	done := make(chan error, 1)
	go func() {
		_, err := e.b.Token(context.WithoutCancel(t.Context()), c.ID)
		done <- err
	}()
	g.waitHeld()
	return e, g, c, done
}
