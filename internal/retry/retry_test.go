package retry

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 5 * time.Second, Max: time.Minute}
	for n, want := range map[int]time.Duration{0: 5 * time.Second, 1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second, 5: time.Minute, 100: time.Minute} {
		if got := b.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	j := Backoff{Base: time.Second, Max: 8 * time.Second, Jitter: 0.5}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := j.Delay(4)
		if d < 4*time.Second || d > 8*time.Second {
			t.Fatalf("jittered Delay(4) = %v, want within [4s, 8s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("jittered delays took %d values in 200 draws, want spread", len(seen))
	}
	if got := (Backoff{}).Delay(3); got != 0 {
		t.Errorf("zero Backoff Delay = %v, want 0", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 1.5 ", 1500 * time.Millisecond},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"1e30", 0},
		{"Sun, 06 Dec 2026 12:00:30 GMT", 30 * time.Second},
		{"Sun, 06 Dec 2026 11:00:00 GMT", 0},
	} {
		if got := ParseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
