package table

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Writer prints rows under a header in aligned columns. Call Flush when
// done. It is not safe for concurrent use.
type Writer struct{ tw *tabwriter.Writer }

// New returns a Writer to w that has printed header.
func New(w io.Writer, header ...string) *Writer {
	t := &Writer{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.Row(header...)
	return t
}

// Row prints one row; an empty cell shows as "-".
func (t *Writer) Row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// Flush writes the aligned rows.
func (t *Writer) Flush() error { return t.tw.Flush() }

// Time prints t in UTC to the second, or "" (shown as "-") for the zero
// time.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
