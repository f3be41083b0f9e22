package main

import (
	"strings"
	"testing"
)

// TestPax8OnePageSaysThereIsMore: a list without --all prints one page;
// when the list has more, stderr says how much was shown and how to get
// the rest, so that a table of 10 rows out of 120 is not taken for all of
// them. The last page, and --all, say nothing of the kind.
func TestPax8OnePageSaysThereIsMore(t *testing.T) {
	vars := pax8Server(t)
	code, stdout, stderr := runCmd(t, vars, "pax8", "companies", "list", "--size", "3", "--output", "csv")
	if code != 0 {
		t.Fatalf("companies list --size 3 = exit %d: %s", code, stderr)
	}
	if rows := strings.Count(stdout, "\n") - 1; rows != 3 {
		t.Errorf("companies list --size 3 printed %d rows, want 3", rows)
	}
	if !strings.Contains(stderr, "showing 3 of ") || !strings.Contains(stderr, "--all") {
		t.Errorf("companies list --size 3: stderr %q, want a note that more pages exist and --all", stderr)
	}

	// The 25 sandbox companies in pages of 10: page 2 is the last.
	code, _, stderr = runCmd(t, vars, "pax8", "companies", "list", "--size", "10", "--page", "2")
	if code != 0 || stderr != "" {
		t.Errorf("companies list --page 2 (the last) = exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	code, _, stderr = runCmd(t, vars, "pax8", "companies", "list", "--all", "--size", "10")
	if code != 0 || strings.Contains(stderr, "showing") {
		t.Errorf("companies list --all = exit %d, stderr %q; want no one-page note", code, stderr)
	}
}
