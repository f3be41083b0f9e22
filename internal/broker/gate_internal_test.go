package broker

import (
	"testing"
	"time"
)

// TestGateCircuit walks the circuit through its states: closed while
// failures stay under the threshold, open for the cool-down, one probe at
// a time when half-open, closed again by a successful probe and reopened
// by a failed one; an answer that is not transient resets the count.
func TestGateCircuit(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	g := &gate{failures: 3, cooldown: 30 * time.Second}
	mustAllow := func(at time.Time, want bool) {
		t.Helper()
		if ok, _, _ := g.allow(at); ok != want {
			t.Fatalf("allow at +%s = %t, want %t", at.Sub(t0), ok, want)
		}
	}
	for i := range 2 {
		mustAllow(t0, true)
		if g.record(t0, true) {
			t.Fatalf("open after %d failures, want closed under 3", i+1)
		}
	}
	mustAllow(t0, true)
	g.record(t0, false) // an answer from the endpoint: the run is broken
	for range 2 {
		mustAllow(t0, true)
		g.record(t0, true)
	}
	mustAllow(t0, true)
	if !g.record(t0, true) {
		t.Fatal("closed after 3 transient failures in a row, want open")
	}
	mustAllow(t0.Add(29*time.Second), false)
	if _, until, _ := g.allow(t0.Add(time.Second)); !until.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("open until %v, want %v", until, t0.Add(30*time.Second))
	}
	half := t0.Add(30 * time.Second)
	mustAllow(half, true)  // the probe
	mustAllow(half, false) // only one at a time
	if !g.record(half, true) {
		t.Fatal("a failed probe closed the circuit")
	}
	mustAllow(half.Add(29*time.Second), false)
	probe := half.Add(30 * time.Second)
	mustAllow(probe, true)
	g.unprobe() // admitted, never sent: another probe may go
	mustAllow(probe, true)
	if g.record(probe, false) {
		t.Fatal("a successful probe left the circuit open")
	}
	mustAllow(probe, true)
	mustAllow(probe, true)
}
