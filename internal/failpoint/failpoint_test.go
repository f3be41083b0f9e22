package failpoint_test

import (
	"testing"

	"github.com/grantd/grantd/internal/failpoint"
)

func TestSetAndUnset(t *testing.T) {
	n := 0
	failpoint.Hit(failpoint.RefreshAfterReceive)
	if failpoint.Armed() {
		t.Fatal("Armed before Set")
	}
	unset := failpoint.Set(failpoint.RefreshAfterReceive, func() { n++ })
	failpoint.Hit(failpoint.RefreshAfterReceive)
	failpoint.Hit(failpoint.RefreshBeforeSend)
	if n != 1 || !failpoint.Armed() {
		t.Fatalf("hits = %d, armed %v; want 1, true", n, failpoint.Armed())
	}
	unset()
	failpoint.Hit(failpoint.RefreshAfterReceive)
	if n != 1 || failpoint.Armed() {
		t.Fatalf("after unset: hits = %d, armed %v; want 1, false", n, failpoint.Armed())
	}
}
