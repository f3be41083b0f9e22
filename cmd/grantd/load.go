package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/grantd/grantd/internal/load"
)

// cmdLoad runs a bounded load scenario on loopback and reports it against a
// baseline measured in the same run (BENCHMARKS.md).
func cmdLoad(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("load: want a scenario: token, refresh, proxy, crash, storm or idle")
	}
	// --cpuprofile FILE, anywhere after the scenario, profiles the whole
	// run (generator, grantd and sandbox share the process).
	rest := args[1:]
	for i := 0; i+1 < len(rest); i++ {
		if rest[i] != "--cpuprofile" && rest[i] != "-cpuprofile" {
			continue
		}
		f, err := os.Create(rest[i+1])
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		rest = append(rest[:i:i], rest[i+2:]...)
		break
	}
	switch args[0] {
	case "token":
		return loadToken(ctx, e, rest)
	case "refresh":
		return loadRefresh(ctx, e, rest)
	case "proxy":
		return loadProxy(ctx, e, rest)
	case "crash":
		return loadCrash(ctx, e, rest)
	case "storm":
		return loadStorm(ctx, e, rest)
	case "idle":
		return loadIdle(ctx, e, rest)
	}
	return usagef("load: unknown scenario %q (want token, refresh, proxy, crash, storm or idle)", args[0])
}

// tokenRound is one round of the token-throughput comparison.
type tokenRound struct {
	Grantd load.Result `json:"grantd"`
	Bare   load.Result `json:"bare"`
	Ratio  float64     `json:"ratio"`
}

type tokenReport struct {
	Concurrency int          `json:"concurrency"`
	Duration    string       `json:"duration"`
	BodyBytes   int          `json:"body_bytes"`
	Rounds      []tokenRound `json:"rounds"`
	MedianRatio float64      `json:"median_ratio"`
	MedianRPS   [2]float64   `json:"median_rps"`    // grantd, bare
	MedianP50Us [2]float64   `json:"median_p50_us"` // grantd, bare
	MedianP99Us [2]float64   `json:"median_p99_us"` // grantd, bare
}

// loadToken compares GET /v1/connections/{id}/token with a valid token
// against a bare net/http handler returning a constant JSON body of the
// same size, with the same generator and concurrency, round by round.
func loadToken(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "load token")
	conc := fs.Int("concurrency", 32, "concurrent workers")
	dur := fs.Duration("duration", 3*time.Second, "duration of each measurement")
	rounds := fs.Int("rounds", 5, "rounds (each measures grantd and the bare handler)")
	asJSON := fs.Bool("json", false, "print JSON")
	accessLog := fs.Bool("access-log", false, "serve with server.access_log on (one info line per request, to stderr)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	d, r, err := connectedDemo(ctx, e, "load token", *accessLog)
	if err != nil {
		return err
	}
	defer d.close()
	target := d.publicURL + "/v1/connections/" + r.Connection.ID + "/token"
	hdr := http.Header{"Authorization": {"Bearer " + d.apiKey}}
	hc := load.Client(*conc)
	body, err := fetch(ctx, hc, target, hdr)
	if err != nil {
		return err
	}
	bare, err := serveConstant(ctx, body)
	if err != nil {
		return err
	}
	rep := tokenReport{Concurrency: *conc, Duration: dur.String(), BodyBytes: len(body)}
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
			return err
		}
		if *second, err = load.Run(ctx, opts, load.Get(hc, urls[1], hdr, 200)); err != nil {
			return err
		}
		if g.Errors > 0 || b.Errors > 0 {
			return fmt.Errorf("round %d: errors (grantd %d: %s; bare %d: %s)", i, g.Errors, g.FirstError, b.Errors, b.FirstError)
		}
		round := tokenRound{Grantd: g, Bare: b, Ratio: g.RPS / b.RPS}
		rep.Rounds = append(rep.Rounds, round)
		ratios = append(ratios, round.Ratio)
		rps0, rps1 = append(rps0, g.RPS), append(rps1, b.RPS)
		p500, p501 = append(p500, us(g.P50)), append(p501, us(b.P50))
		p990, p991 = append(p990, us(g.P99)), append(p991, us(b.P99))
		if !*asJSON {
			fmt.Fprintf(e.stderr, "round %d: grantd %.0f req/s (p50 %s p99 %s), bare %.0f req/s (p50 %s p99 %s), ratio %.2f\n",
				i+1, g.RPS, g.P50, g.P99, b.RPS, b.P50, b.P99, round.Ratio)
		}
	}
	rep.MedianRatio = load.Median(ratios)
	rep.MedianRPS = [2]float64{load.Median(rps0), load.Median(rps1)}
	rep.MedianP50Us = [2]float64{load.Median(p500), load.Median(p501)}
	rep.MedianP99Us = [2]float64{load.Median(p990), load.Median(p991)}
	if *asJSON {
		return writeJSON(e.stdout, rep)
	}
	fmt.Fprintf(e.stdout, "token endpoint vs bare handler, concurrency %d, %d rounds of %s, body %d bytes\n", *conc, *rounds, dur, len(body))
	fmt.Fprintf(e.stdout, "  grantd: median %.0f req/s, p50 %.0f µs, p99 %.0f µs\n", rep.MedianRPS[0], rep.MedianP50Us[0], rep.MedianP99Us[0])
	fmt.Fprintf(e.stdout, "  bare:   median %.0f req/s, p50 %.0f µs, p99 %.0f µs\n", rep.MedianRPS[1], rep.MedianP50Us[1], rep.MedianP99Us[1])
	fmt.Fprintf(e.stdout, "  median ratio grantd/bare: %.2f× (goal ≥ 0.70×)\n", rep.MedianRatio)
	return nil
}

// connectedDemo starts the demo on loopback ports and connects its partner,
// the starting point of the load scenarios. The caller closes the demo.
func connectedDemo(ctx context.Context, e *env, name string, accessLog bool) (*demo, *demoReport, error) {
	d, err := startDemo(ctx, e, demoOptions{listen: "127.0.0.1:0", sandboxListen: "127.0.0.1:0", accessLog: accessLog})
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(e.stderr, "%s: connecting the demo partner…\n", name)
	r, err := d.runHeadless(ctx)
	if err != nil {
		d.close()
		return nil, nil, fmt.Errorf("demo flow: %w", err)
	}
	return d, r, nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// fetch GETs target and returns its body, which must come with a 200.
func fetch(ctx context.Context, hc *http.Client, target string, hdr http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header = hdr.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", redactPath(target), resp.StatusCode)
	}
	return b, nil
}

// serveConstant serves body as JSON from a bare net/http server on
// loopback until ctx is done, and returns its URL. It is the baseline.
func serveConstant(ctx context.Context, body []byte) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.Write(body)
		}),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/token", nil
}
