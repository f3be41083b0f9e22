package broker_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// lockedBuffer collects logs written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedBroker is a broker on e's store whose debug logs go to logs, with
// reg as its providers (e.reg when nil).
func (e *env) loggedBroker(reg *provider.Registry, logs *lockedBuffer) *broker.Broker {
	e.t.Helper()
	if reg == nil {
		reg = e.reg
	}
	b, err := broker.New(broker.Options{
		Store: e.st, Vault: e.keys, Providers: reg, PublicURL: "http://127.0.0.1:1", Now: e.clk.Now, Owner: "replica-logged",
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// refreshTokenOf opens c's sealed refresh token.
func (e *env) refreshTokenOf(c store.Connection) string {
	e.t.Helper()
	rt, err := e.keys.Open(c.RefreshToken, vault.AAD("connection", c.ID, "refresh_token"))
	if err != nil || len(rt) == 0 {
		e.t.Fatalf("open refresh token: %q, %v", rt, err)
	}
	return string(rt)
}

// refreshDirectly presents rt at the sandbox's token endpoint with a plain
// HTTP request and returns the status and error code.
func (e *env) refreshDirectly(rt string) (int, string) {
	e.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {e.integ.ClientID}, "client_secret": {secret}}
	resp, err := http.PostForm(e.ep.TokenURL, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Error string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		e.t.Fatalf("decode token answer: %v", err)
	}
	return resp.StatusCode, body.Error
}

// eventKinds lists the kinds of connection id's events, oldest first.
func (e *env) eventKinds(id string) ([]string, []store.Event) {
	e.t.Helper()
	es, err := e.st.ListEvents(e.t.Context(), id, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var kinds []string
	for i := len(es) - 1; i >= 0; i-- {
		kinds = append(kinds, es[i].Kind)
	}
	return kinds, es
}

func (e *env) wantGone(id string) {
	e.t.Helper()
	if _, err := e.st.GetConnection(e.t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		e.t.Errorf("GetConnection after Disconnect = %v, want ErrNotFound", err)
	}
}

// TestDisconnectRevokesAtProvider: disconnecting revokes the grant at the
// sandbox (RFC 7009): its refresh token is refused afterwards, the row is
// gone, a revoked event outlives it, and the token is never logged
// (SEC-61).
func TestDisconnectRevokesAtProvider(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	rt := e.refreshTokenOf(c)
	var logs lockedBuffer
	b := e.loggedBroker(nil, &logs)

	revoked, err := b.Disconnect(ctx, e.tenant, c.ID)
	if err != nil || !revoked {
		t.Fatalf("Disconnect = %v, %v; want true, nil", revoked, err)
	}
	st := e.sb.Stats().Providers[sandbox.Pax8]
	if st.Revocations != 1 || st.FamiliesRevoked != 1 {
		t.Errorf("sandbox revocations=%d families_revoked=%d, want 1 and 1", st.Revocations, st.FamiliesRevoked)
	}
	if status, code := e.refreshDirectly(rt); status != http.StatusForbidden || code != "invalid_grant" {
		t.Errorf("refresh with the revoked token = %d %s, want 403 invalid_grant", status, code)
	}
	e.wantGone(c.ID)
	kinds, _ := e.eventKinds(c.ID)
	if diff := cmp.Diff([]string{"connected", "revoked", "deleted"}, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if strings.Contains(logs.String(), rt) {
		t.Errorf("SEC-61: the refresh token appears in the logs")
	}
}

// TestDisconnectRevocationFails: a 500 from the revocation endpoint or an
// unreachable vendor does not stop the disconnect; a revocation_failed
// event with a safe message is stored before the row goes, and Disconnect
// reports not revoked.
func TestDisconnectRevocationFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(e *env) *provider.Registry
		wantMsg string
	}{
		{
			name: "server_error fault",
			setup: func(e *env) *provider.Registry {
				if err := e.sb.AddFault(sandbox.Fault{Endpoint: "revoke", Kind: "server_error"}); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			wantMsg: "revocation endpoint error server_error, status 500",
		},
		{
			name: "vendor unreachable",
			setup: func(e *env) *provider.Registry {
				dead := httptest.NewServer(http.NotFoundHandler())
				dead.Close()
				down := e.provider
				down.RevocationURL = dead.URL + "/oauth/revoke"
				reg, err := provider.NewRegistry(down)
				if err != nil {
					t.Fatal(err)
				}
				return reg
			},
			wantMsg: "network error",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := t.Context()
			c := e.connect(ctx)
			rt := e.refreshTokenOf(c)
			var logs lockedBuffer
			b := e.loggedBroker(tc.setup(e), &logs)

			revoked, err := b.Disconnect(ctx, e.tenant, c.ID)
			if err != nil || revoked {
				t.Fatalf("Disconnect = %v, %v; want false, nil", revoked, err)
			}
			e.wantGone(c.ID)
			kinds, es := e.eventKinds(c.ID)
			if diff := cmp.Diff([]string{"connected", "revocation_failed", "deleted"}, kinds); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			for _, ev := range es {
				if ev.Kind == "revocation_failed" && !strings.Contains(ev.Detail, tc.wantMsg) {
					t.Errorf("revocation_failed detail = %q, want it to contain %q", ev.Detail, tc.wantMsg)
				}
			}
			if got := e.sb.Stats().Providers[sandbox.Pax8].Revocations; got != 0 {
				t.Errorf("sandbox revocations = %d, want 0", got)
			}
			if strings.Contains(logs.String(), rt) || strings.Contains(logs.String(), secret) {
				t.Errorf("SEC-61: the refresh token or client secret appears in the logs")
			}
		})
	}
}

// TestDisconnectWithoutRevocationURL: a provider without a revocation
// endpoint gets no request; the connection is deleted here only.
func TestDisconnectWithoutRevocationURL(t *testing.T) {
	e := newEnv(t, withProvider(func(p *provider.Provider) { p.RevocationURL = "" }))
	ctx := t.Context()
	c := e.connect(ctx)
	rt := e.refreshTokenOf(c)
	revoked, err := e.b.Disconnect(ctx, e.tenant, c.ID)
	if err != nil || revoked {
		t.Fatalf("Disconnect = %v, %v; want false, nil", revoked, err)
	}
	e.wantGone(c.ID)
	if got := e.sb.Stats().Providers[sandbox.Pax8].Revocations; got != 0 {
		t.Errorf("sandbox revocations = %d, want 0", got)
	}
	if status, _ := e.refreshDirectly(rt); status != http.StatusOK {
		t.Errorf("refresh with the unrevoked token = %d, want 200", status)
	}
	kinds, _ := e.eventKinds(c.ID)
	if diff := cmp.Diff([]string{"connected", "deleted"}, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestDisconnectOtherTenant: another tenant's connection is not found and
// nothing is revoked or deleted (SEC-43).
func TestDisconnectOtherTenant(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	revoked, err := e.b.Disconnect(ctx, "ten_other", c.ID)
	if broker.CodeOf(err) != broker.CodeNotFound || revoked {
		t.Fatalf("Disconnect by another tenant = %v, %v; want false, not_found", revoked, err)
	}
	if got := e.sb.Stats().Providers[sandbox.Pax8].Revocations; got != 0 {
		t.Errorf("sandbox revocations = %d, want 0", got)
	}
	if _, err := e.st.GetConnection(ctx, c.ID); err != nil {
		t.Errorf("GetConnection after a refused Disconnect = %v, want the row kept", err)
	}
}

// TestDisconnectWaitsForRunningRefresh: a refresh lease held by another
// replica delays the revocation until it is released, and the token
// revoked is the one stored then.
func TestDisconnectWaitsForRunningRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	now := e.clk.Now()
	if _, owned, err := e.st.AcquireLease(ctx, c.ID, "replica-b", now, now.Add(time.Minute)); err != nil || !owned {
		t.Fatalf("AcquireLease by replica-b = %v, %v", owned, err)
	}
	done := make(chan bool)
	go func() {
		revoked, err := e.b.Disconnect(ctx, e.tenant, c.ID)
		if err != nil {
			t.Errorf("Disconnect = %v", err)
		}
		done <- revoked
	}()
	select {
	case <-done:
		t.Fatal("Disconnect finished while another replica held the refresh lease")
	case <-time.After(200 * time.Millisecond):
	}
	if err := e.st.ReleaseLease(ctx, c.ID, "replica-b"); err != nil {
		t.Fatal(err)
	}
	if revoked := <-done; !revoked {
		t.Errorf("Disconnect after the lease was released: revoked = false, want true")
	}
	if got := e.sb.Stats().Providers[sandbox.Pax8].Revocations; got != 1 {
		t.Errorf("sandbox revocations = %d, want 1", got)
	}
}
