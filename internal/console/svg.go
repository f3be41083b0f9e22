package console

import (
	"fmt"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// chart is the overview's refresh chart: 24 hourly stacked bars drawn as
// SVG by the server (the page runs no script).
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int
	Totals        map[string]int
	From, To      time.Time
}

type bar struct {
	X, W            int
	OK, Reauth, Err segment
	Label           string
	Hour            time.Time
	Title           string
}

type segment struct{ Y, H, N int }

const (
	chartW, chartH, chartPad = 480, 160, 20
)

// refreshChart buckets events by hour from since (24 buckets) into the
// refreshed, needs_reauth and other refresh failure series.
func refreshChart(since time.Time, events []store.EventCount) chart {
	type counts struct{ ok, reauth, err int }
	var buckets [24]counts
	ch := chart{Width: chartW, Height: chartH + chartPad, From: since, To: since.Add(24 * time.Hour), Totals: map[string]int{}}
	for _, e := range events {
		i := int(e.Hour.Sub(since) / time.Hour)
		if i < 0 || i >= len(buckets) {
			continue
		}
		switch {
		case e.Kind == "refreshed":
			buckets[i].ok += e.Count
		case e.Kind == "needs_reauth":
			buckets[i].reauth += e.Count
		case strings.HasPrefix(e.Kind, "refresh_"):
			buckets[i].err += e.Count
		}
		ch.Totals[e.Kind] += e.Count
	}
	for _, b := range buckets {
		ch.Max = max(ch.Max, b.ok+b.reauth+b.err)
	}
	scale := func(n int) int {
		if ch.Max == 0 {
			return 0
		}
		return n * chartH / ch.Max
	}
	slot := chartW / len(buckets)
	for i, b := range buckets {
		hour := since.Add(time.Duration(i) * time.Hour)
		x := i*slot + 2
		okH, reH, erH := scale(b.ok), scale(b.reauth), scale(b.err)
		y := chartH
		br := bar{X: x, W: slot - 4, Hour: hour}
		br.OK = segment{Y: y - okH, H: okH, N: b.ok}
		y -= okH
		br.Reauth = segment{Y: y - reH, H: reH, N: b.reauth}
		y -= reH
		br.Err = segment{Y: y - erH, H: erH, N: b.err}
		br.Title = fmt.Sprintf("%s: %d refreshed, %d needs reauth, %d failed", hour.Format("15:04 UTC"), b.ok, b.reauth, b.err)
		if i%6 == 0 {
			br.Label = hour.Format("15:04")
		}
		ch.Bars = append(ch.Bars, br)
	}
	return ch
}

// timeline is the connection page's picture of a grant's deadlines: the
// access expiry, the idle deadline, the absolute end and past refreshes,
// placed on one axis from the start of the grant to its last deadline.
type timeline struct {
	Width, Height int
	NowX          int
	Marks         []mark
	Refreshes     []int
	From, To      time.Time
}

type mark struct {
	X     int
	Label string
	At    time.Time
	Class string
}

const (
	tlW, tlH, tlPad = 480, 70, 10
)

func grantTimeline(c store.Connection, refreshes []time.Time, now time.Time) timeline {
	from := c.ConnectedAt
	if from.IsZero() {
		from = c.CreatedAt
	}
	for _, t := range refreshes {
		if t.Before(from) {
			from = t
		}
	}
	to := now
	for _, t := range []time.Time{c.AccessExpiresAt, c.RefreshIdleExpiresAt, c.RefreshExpiresAt} {
		if t.After(to) {
			to = t
		}
	}
	if !to.After(from) {
		to = from.Add(time.Hour)
	}
	x := func(t time.Time) int {
		f := float64(t.Sub(from)) / float64(to.Sub(from))
		return tlPad + int(f*float64(tlW-2*tlPad))
	}
	tl := timeline{Width: tlW, Height: tlH, NowX: x(now), From: from, To: to}
	add := func(t time.Time, label, class string) {
		if !t.IsZero() {
			tl.Marks = append(tl.Marks, mark{X: x(t), Label: label, At: t, Class: class})
		}
	}
	add(c.AccessExpiresAt, "access token expires", "access")
	add(c.RefreshIdleExpiresAt, "idle deadline", "idle")
	add(c.RefreshExpiresAt, "absolute end", "end")
	for _, t := range refreshes {
		tl.Refreshes = append(tl.Refreshes, x(t))
	}
	return tl
}
