package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/load"
	"github.com/grantd/grantd/internal/load/fleet"
)

// TokenOptions configures [Token].
type TokenOptions struct {
	Concurrency int           // concurrent workers
	Duration    time.Duration // of each measurement
	Rounds      int           // each measures grantd and the bare handler
	AccessLog   bool          // serve with server.access_log on
	Progress    io.Writer     // told how the rounds go, and the logs; nil for none
}

// TokenRound is one round of the token-throughput comparison.
type TokenRound struct {
	Grantd load.Result `json:"grantd"`
	Bare   load.Result `json:"bare"`
	Ratio  float64     `json:"ratio"`
}

// TokenReport is the outcome of [Token].
type TokenReport struct {
	Concurrency int          `json:"concurrency"`
	Duration    string       `json:"duration"`
	BodyBytes   int          `json:"body_bytes"`
	Rounds      []TokenRound `json:"rounds"`
	MedianRatio float64      `json:"median_ratio"`
	MedianRPS   [2]float64   `json:"median_rps"`    // grantd, bare
	MedianP50Us [2]float64   `json:"median_p50_us"` // grantd, bare
	MedianP99Us [2]float64   `json:"median_p99_us"` // grantd, bare
}

// Token compares GET /v1/connections/{id}/token with a valid token
// against a bare net/http handler returning a constant JSON body of the
// same size, with the same generator and concurrency, round by round.
func Token(ctx context.Context, o TokenOptions) (*TokenReport, error) {
	conc, dur, rounds := &o.Concurrency, &o.Duration, &o.Rounds
	d, r, err := connected(ctx, "load token", o.AccessLog, o.Progress)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	target := d.PublicURL + "/v1/connections/" + r.Connection.ID + "/token"
	hdr := http.Header{"Authorization": {"Bearer " + d.APIKey}}
	hc := load.Client(*conc)
	body, err := fleet.Fetch(ctx, hc, target, hdr)
	if err != nil {
		return nil, err
	}
	bare, err := serveConstant(ctx, body)
	if err != nil {
		return nil, err
	}
	rep := &TokenReport{Concurrency: *conc, Duration: dur.String(), BodyBytes: len(body)}
	var ratios, rps0, rps1, p500, p501, p990, p991 []float64
	opts := load.Options{Concurrency: *conc, Duration: *dur, Warmup: 2}
	for i := range *rounds {
		var g, b load.Result
		// Alternate the order so neither side always runs on a warmer machine.
		first, second := &g, &b
		urls := [2]string{target, bare}
		if i%2 == 1 {
			first, second = &b, &g
			urls = [2]string{bare, target}
		}
		if *first, err = load.Run(ctx, opts, load.Get(hc, urls[0], hdr, 200)); err != nil {
			return nil, err
		}
		if *second, err = load.Run(ctx, opts, load.Get(hc, urls[1], hdr, 200)); err != nil {
			return nil, err
		}
		if g.Errors > 0 || b.Errors > 0 {
			return nil, fmt.Errorf("round %d: errors (grantd %d: %s; bare %d: %s)", i, g.Errors, g.FirstError, b.Errors, b.FirstError)
		}
		round := TokenRound{Grantd: g, Bare: b, Ratio: g.RPS / b.RPS}
		rep.Rounds = append(rep.Rounds, round)
		ratios = append(ratios, round.Ratio)
		rps0, rps1 = append(rps0, g.RPS), append(rps1, b.RPS)
		p500, p501 = append(p500, us(g.P50)), append(p501, us(b.P50))
		p990, p991 = append(p990, us(g.P99)), append(p991, us(b.P99))
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "round %d: grantd %.0f req/s (p50 %s p99 %s), bare %.0f req/s (p50 %s p99 %s), ratio %.2f\n",
				i+1, g.RPS, g.P50, g.P99, b.RPS, b.P50, b.P99, round.Ratio)
		}
	}
	rep.MedianRatio = load.Median(ratios)
	rep.MedianRPS = [2]float64{load.Median(rps0), load.Median(rps1)}
	rep.MedianP50Us = [2]float64{load.Median(p500), load.Median(p501)}
	rep.MedianP99Us = [2]float64{load.Median(p990), load.Median(p991)}
	return rep, nil
}

// PrintToken writes rep for people.
func PrintToken(w io.Writer, rep *TokenReport) {
	fmt.Fprintf(w, "token endpoint vs bare handler, concurrency %d, %d rounds of %s, body %d bytes\n", rep.Concurrency, len(rep.Rounds), rep.Duration, rep.BodyBytes)
	fmt.Fprintf(w, "  grantd: median %.0f req/s, p50 %.0f µs, p99 %.0f µs\n", rep.MedianRPS[0], rep.MedianP50Us[0], rep.MedianP99Us[0])
	fmt.Fprintf(w, "  bare:   median %.0f req/s, p50 %.0f µs, p99 %.0f µs\n", rep.MedianRPS[1], rep.MedianP50Us[1], rep.MedianP99Us[1])
	fmt.Fprintf(w, "  median ratio grantd/bare: %.2f× (goal ≥ 0.70×)\n", rep.MedianRatio)
}
