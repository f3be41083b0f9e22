package table

import (
	"strings"
	"testing"
	"time"
)

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := New(&b, "ID", "WHEN")
	w.Row("a", Time(time.Date(2026, 12, 6, 8, 0, 0, 0, time.FixedZone("X", 3600))))
	w.Row("bbbb", Time(time.Time{}))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "ID    WHEN\na     2026-12-06T07:00:00Z\nbbbb  -\n"
	if got := b.String(); got != want {
		t.Errorf("table =\n%q\nwant\n%q", got, want)
	}
}
