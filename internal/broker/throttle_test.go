package broker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
)

// sentRefreshes counts the refresh-token requests the sandbox answered.
func (e *env) sentRefreshes() int {
	n := 0
	for _, c := range e.sb.Stats().Providers["pax8"].TokenRequests["refresh_token"] {
		n += c
	}
	return n
}

// TestForcedRefreshThrottledAndFenced: forced refreshes of one connection
// are throttled (the first after consent goes at once, the next inside
// MinForcedInterval gets the current token and CodeRefreshThrottled with
// RetryAfter), and a forced refresh about a token that is no longer the
// stored one returns the newer token without sending anything.
func TestForcedRefreshThrottledAndFenced(t *testing.T) {
	e := newEnv(t, withMinForced(30*time.Second))
	ctx := t.Context()
	c := e.connect(ctx)
	old, err := e.b.Token(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Second)
	first, err := e.b.Refresh(ctx, c.ID, "")
	if err != nil || first.AccessToken == old.AccessToken {
		t.Fatalf("first forced refresh = %v (same token %t), want a new token", err, first.AccessToken == old.AccessToken)
	}
	if n := e.sentRefreshes(); n != 1 {
		t.Fatalf("refreshes = %d, want 1", n)
	}

	e.clk.Advance(10 * time.Second)
	got, err := e.b.Refresh(ctx, c.ID, "")
	be, ok := errors.AsType[*broker.Error](err)
	if !ok || be.Code != broker.CodeRefreshThrottled || be.RetryAfter != 20*time.Second {
		t.Fatalf("forced refresh 10 s later = %v, want refresh_throttled with RetryAfter 20s", err)
	}
	if got.AccessToken != first.AccessToken {
		t.Error("a throttled refresh did not hand out the current token")
	}

	// Fenced: the vendor refused the old token, which is no longer stored.
	got, err = e.b.Refresh(ctx, c.ID, old.AccessToken)
	if err != nil || got.AccessToken != first.AccessToken {
		t.Errorf("forced refresh about a replaced token = %v, want the current token", err)
	}
	if n := e.sentRefreshes(); n != 1 {
		t.Fatalf("refreshes after a throttled and a fenced call = %d, want 1", n)
	}

	e.clk.Advance(21 * time.Second)
	next, err := e.b.Refresh(ctx, c.ID, first.AccessToken)
	if err != nil || next.AccessToken == first.AccessToken {
		t.Fatalf("forced refresh after the window = %v, want a new token", err)
	}
	if n := e.sentRefreshes(); n != 2 {
		t.Errorf("refreshes = %d, want 2", n)
	}
}
