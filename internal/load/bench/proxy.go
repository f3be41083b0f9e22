package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/load"
	"github.com/grantd/grantd/internal/load/fleet"
	"github.com/grantd/grantd/internal/proxy"
	"github.com/grantd/grantd/internal/sandbox"
)

// ProxyLevel is one concurrency level of the proxy-overhead comparison:
// medians over the rounds, proxied and direct.
type ProxyLevel struct {
	Concurrency int     `json:"concurrency"`
	ProxiedRPS  float64 `json:"proxied_rps"`
	DirectRPS   float64 `json:"direct_rps"`
	RatioRPS    float64 `json:"ratio_rps"`
	ProxiedP50  float64 `json:"proxied_p50_us"`
	DirectP50   float64 `json:"direct_p50_us"`
	ProxiedP99  float64 `json:"proxied_p99_us"`
	DirectP99   float64 `json:"direct_p99_us"`
	AddedP50    float64 `json:"added_p50_us"`
	AddedP99    float64 `json:"added_p99_us"`
}

// ProxyReport is the outcome of [Proxy].
type ProxyReport struct {
	Path     string       `json:"path"`
	Duration string       `json:"duration"`
	Rounds   int          `json:"rounds"`
	Levels   []ProxyLevel `json:"levels"`
}

// Proxy measures the proxy's overhead: GET <path> through
// /v1/proxy/{connection}/ against the same GET sent straight to the
// sandbox API with the connection's token, in the same run, alternating
// which goes first. Added latency is the difference of the medians (over
// rounds) of each side's p50 and p99.
func Proxy(ctx context.Context, o ProxyOptions) (*ProxyReport, error) {
	dur, rounds, path := &o.Duration, &o.Rounds, &o.Path
	d, r, err := connected(ctx, "load proxy", o.AccessLog, o.Progress)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	connID := r.Connection.ID
	grantdHdr := http.Header{"Authorization": {"Bearer " + d.APIKey}}
	hc := load.Client(32)
	b, err := fleet.Fetch(ctx, hc, d.PublicURL+"/v1/connections/"+connID+"/token", grantdHdr)
	if err != nil {
		return nil, err
	}
	var tok grantd.Token
	if err := json.Unmarshal(b, &tok); err != nil {
		return nil, fmt.Errorf("decode token: %w", err)
	}
	direct := d.Sandbox.Endpoints(sandbox.Pax8).APIBaseURL + "/" + *path
	directHdr := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	proxied := d.PublicURL + proxy.Prefix + connID + "/" + *path
	if _, err := fleet.Fetch(ctx, hc, proxied, grantdHdr); err != nil {
		return nil, fmt.Errorf("proxied GET: %w", err)
	}

	rep := &ProxyReport{Path: *path, Duration: dur.String(), Rounds: *rounds}
	for _, conc := range []int{1, 32} {
		opts := load.Options{Concurrency: conc, Duration: *dur, Warmup: 20}
		var prps, drps, pp50, dp50, pp99, dp99 []float64
		for i := range *rounds {
			var p, q load.Result
			sides := []func() error{
				func() (err error) { p, err = load.Run(ctx, opts, load.Get(hc, proxied, grantdHdr, 200)); return err },
				func() (err error) { q, err = load.Run(ctx, opts, load.Get(hc, direct, directHdr, 200)); return err },
			}
			if i%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, run := range sides {
				if err := run(); err != nil {
					return nil, err
				}
			}
			if p.Errors > 0 || q.Errors > 0 {
				return nil, fmt.Errorf("concurrency %d round %d: errors (proxied %d: %s; direct %d: %s)", conc, i, p.Errors, p.FirstError, q.Errors, q.FirstError)
			}
			prps, drps = append(prps, p.RPS), append(drps, q.RPS)
			pp50, dp50 = append(pp50, us(p.P50)), append(dp50, us(q.P50))
			pp99, dp99 = append(pp99, us(p.P99)), append(dp99, us(q.P99))
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "c=%d round %d: proxied %.0f req/s (p50 %s p99 %s), direct %.0f req/s (p50 %s p99 %s)\n",
					conc, i+1, p.RPS, p.P50, p.P99, q.RPS, q.P50, q.P99)
			}
		}
		lv := ProxyLevel{
			Concurrency: conc,
			ProxiedRPS:  load.Median(prps), DirectRPS: load.Median(drps),
			ProxiedP50: load.Median(pp50), DirectP50: load.Median(dp50),
			ProxiedP99: load.Median(pp99), DirectP99: load.Median(dp99),
		}
		lv.RatioRPS = lv.ProxiedRPS / lv.DirectRPS
		lv.AddedP50, lv.AddedP99 = lv.ProxiedP50-lv.DirectP50, lv.ProxiedP99-lv.DirectP99
		rep.Levels = append(rep.Levels, lv)
	}
	return rep, nil
}

// ProxyOptions configures [Proxy].
type ProxyOptions struct {
	Duration  time.Duration // of each measurement
	Rounds    int           // per concurrency level, each measuring both sides
	Path      string        // API path to GET, relative to the API base
	AccessLog bool          // serve with server.access_log on
	Progress  io.Writer     // told how the rounds go, and the logs; nil for none
}

// PrintProxy writes rep for people.
func PrintProxy(w io.Writer, rep *ProxyReport) {
	fmt.Fprintf(w, "proxied vs direct GET %s, %d rounds of %s per level (medians)\n", rep.Path, rep.Rounds, rep.Duration)
	for _, lv := range rep.Levels {
		fmt.Fprintf(w, "  c=%-2d proxied %6.0f req/s p50 %5.0f µs p99 %5.0f µs | direct %6.0f req/s p50 %5.0f µs p99 %5.0f µs | added p50 %+.0f µs p99 %+.0f µs, rps ratio %.2f×\n",
			lv.Concurrency, lv.ProxiedRPS, lv.ProxiedP50, lv.ProxiedP99, lv.DirectRPS, lv.DirectP50, lv.DirectP99, lv.AddedP50, lv.AddedP99, lv.RatioRPS)
	}
	fmt.Fprintln(w, "  goals: added p99 < 500 µs at c=1; rps ratio ≥ 0.50× at c=32")
}
