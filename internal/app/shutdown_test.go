package app

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
)

// TestServeWaitsForBackgroundRefresh is RT-04's "after send, before
// commit" point at a clean shutdown: when Serve is stopped while the
// background refresher's refresh is in flight, Serve must not return
// (after which the caller closes the store) before the refresh has stored
// the tokens the provider issued, or a rotated refresh token is lost.
func TestServeWaitsForBackgroundRefresh(t *testing.T) {
	s := startStack(t, slog.New(slog.NewTextHandler(t.Output(), nil)), func(c *config.Config) {
		c.Refresh.Interval = config.Duration(100 * time.Millisecond)
	})
	id := s.connect(t)
	if err := s.sandbox.AddFault(sandbox.Fault{Provider: sandbox.Pax8, Endpoint: "token", Kind: "slow",
		GrantType: "refresh_token", Delay: time.Second}); err != nil {
		t.Fatal(err)
	}
	// The access token is about to expire: the write through the
	// broker's store schedules the refresh for now.
	before, err := s.app.Broker().Store().UpdateConnection(t.Context(), id, func(c store.Connection) (store.Connection, error) {
		c.AccessExpiresAt = time.Now().Add(time.Second)
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the refresher's request reaches the provider.
	deadline := time.Now().Add(10 * time.Second)
	for !s.refreshSent() {
		if time.Now().After(deadline) {
			t.Fatal("the background refresher sent no refresh request")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	after, err := s.app.Store().GetConnection(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastRefreshAt.After(before.LastRefreshAt) || string(after.RefreshToken) == string(before.RefreshToken) {
		t.Errorf("after Serve returned, the connection still has the grant from before the refresh in flight (version %d, was %d)",
			after.Version, before.Version)
	}
}

// refreshSent reports whether a refresh_token grant request has reached
// the sandbox, answered or not.
func (s *stack) refreshSent() bool {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	for _, b := range s.rec.arrived {
		if strings.Contains(string(b), `"grant_type":"refresh_token"`) || strings.Contains(string(b), "grant_type=refresh_token") {
			return true
		}
	}
	return false
}
