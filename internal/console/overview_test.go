package console_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/testenv"
)

var pax8TotalRE = regexp.MustCompile(`<tr data-provider="pax8"><td>pax8</td><td>\d+</td><td>\d+</td><td>\d+</td><td>(\d+)</td>`)

// TestOverviewServesStaleCountsWhileRecounting: the overview's fleet
// counts are reused while fresh; past that they are still served, at once,
// while one recount runs behind the page, whose result the next view
// shows; past the longest stale age the view waits for its own recount.
func TestOverviewServesStaleCountsWhileRecounting(t *testing.T) {
	v := newEnv(t)
	hc := v.client()
	v.signIn(hc, adminKey)
	t0 := time.Now().Truncate(time.Second)
	v.setNow(t0)
	total := func() string {
		t.Helper()
		m := pax8TotalRE.FindStringSubmatch(v.get(hc, "/console/", http.StatusOK))
		if m == nil {
			t.Fatal("the overview shows no pax8 row")
		}
		return m[1]
	}
	if got := total(); got != "2" {
		t.Fatalf("pax8 total = %s, want 2", got)
	}
	tenC, _ := v.e.Tenant(t, "Tenant C")
	v.e.Connect(t, tenC, testenv.Partner)

	v.setNow(t0.Add(10 * time.Second)) // fresh: reused
	if got := total(); got != "2" {
		t.Errorf("fresh counts: total = %s, want the cached 2", got)
	}
	v.setNow(t0.Add(20 * time.Second)) // stale: served, recounted behind
	if got := total(); got != "2" {
		t.Errorf("stale counts: total = %s, want the last 2 served at once", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for total() != "3" {
		if time.Now().After(deadline) {
			t.Fatal("the background recount never reached the overview")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tenD, _ := v.e.Tenant(t, "Tenant D")
	v.e.Connect(t, tenD, testenv.OtherPartner)
	v.setNow(t0.Add(10 * time.Minute)) // too old to serve: counted now
	if got := total(); got != "4" {
		t.Errorf("counts older than the longest stale age: total = %s, want a recount's 4", got)
	}
}
