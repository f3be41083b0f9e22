package main

import (
	"strings"
	"testing"
)

// TestPax8EmptyListJSON: a list that matches nothing prints an empty JSON
// array, with and without --all, never "null", so that scripts reading
// --output json can always iterate the result.
func TestPax8EmptyListJSON(t *testing.T) {
	vars := pax8Server(t)
	for _, extra := range [][]string{nil, {"--all"}} {
		args := append([]string{"pax8", "companies", "list", "--input", `{"city":"No Such City"}`, "--output", "json"}, extra...)
		code, stdout, stderr := runCmd(t, vars, args...)
		if code != 0 {
			t.Fatalf("%v = exit %d: %s", args, code, stderr)
		}
		if got := strings.TrimSpace(stdout); got != "[]" {
			t.Errorf("%v printed %q, want []", args, got)
		}
	}
}
