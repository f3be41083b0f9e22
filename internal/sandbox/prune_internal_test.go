package sandbox

import (
	"testing"
	"time"
)

// TestPruneTokens: a long-running sandbox forgets expired access tokens,
// refresh tokens and families, at most once per pruneEvery, and keeps
// everything still live (a consumed refresh token of a live family stays,
// so presenting it again is still detected as reuse).
func TestPruneTokens(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	p := newProvider("pax8", nil, Settings{})
	live := &family{id: "live", absoluteExp: now.Add(time.Hour)}
	ended := &family{id: "ended", absoluteExp: now.Add(-time.Second)}
	p.families = map[string]*family{"live": live, "ended": ended}
	p.refresh = map[string]*refreshToken{
		"rt-live":     {familyID: "live", idleExp: now.Add(time.Hour)},
		"rt-consumed": {familyID: "live", idleExp: now.Add(time.Hour), consumed: true},
		"rt-idle":     {familyID: "live", idleExp: now},
		"rt-ended":    {familyID: "ended", idleExp: now.Add(time.Hour)},
		"rt-orphan":   {familyID: "gone", idleExp: now.Add(time.Hour)},
	}
	p.accessGrant = map[string]accessEntry{
		"at-live":    {familyID: "live", expires: now.Add(2 * pruneEvery)},
		"at-expired": {familyID: "live", expires: now},
	}
	p.prunedAt = now.Add(-pruneEvery / 2)
	p.pruneTokensLocked(now)
	if len(p.refresh) != 5 || len(p.accessGrant) != 2 || len(p.families) != 2 {
		t.Fatalf("pruned within pruneEvery of the last prune")
	}
	p.pruneTokensLocked(now.Add(pruneEvery))
	for _, v := range []string{"rt-idle", "rt-ended", "rt-orphan"} {
		if p.refresh[v] != nil {
			t.Errorf("refresh token %s kept", v)
		}
	}
	for _, v := range []string{"rt-live", "rt-consumed"} {
		if p.refresh[v] == nil {
			t.Errorf("refresh token %s forgotten", v)
		}
	}
	if _, ok := p.accessGrant["at-expired"]; ok {
		t.Error("expired access token kept")
	}
	if _, ok := p.accessGrant["at-live"]; !ok {
		t.Error("live access token forgotten")
	}
	if p.families["ended"] != nil || p.families["live"] == nil {
		t.Errorf("families after prune: %v", p.families)
	}
}
