package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options bounds one run. At least one of Requests and Duration must be set;
// the run stops at whichever comes first.
type Options struct {
	Concurrency int           // workers (default 1)
	Requests    int           // total operations, 0 = unbounded
	Duration    time.Duration // wall time, 0 = unbounded
	Warmup      int           // operations per worker before measuring
}

// Result summarises a run.
type Result struct {
	Requests int           `json:"requests"`
	Errors   int           `json:"errors"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	RPS      float64       `json:"rps"`
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
	Max      time.Duration `json:"max_ns"`
	// FirstError is the first failure seen, for diagnosis.
	FirstError string `json:"first_error,omitempty"`
}

func (r Result) String() string {
	return fmt.Sprintf("%d req in %s: %.0f req/s, p50 %s, p99 %s, errors %d",
		r.Requests, r.Elapsed.Round(time.Millisecond), r.RPS, r.P50, r.P99, r.Errors)
}

// Run calls op from Concurrency workers until the bounds are reached and
// returns the latency summary. op must be safe for concurrent use.
func Run(ctx context.Context, o Options, op func(context.Context) error) (Result, error) {
	if o.Requests <= 0 && o.Duration <= 0 {
		return Result{}, errors.New("load: set Requests or Duration")
	}
	workers := max(o.Concurrency, 1)
	for range o.Warmup {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() { _ = op(ctx) })
		}
		wg.Wait()
	}
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	var (
		issued   atomic.Int64
		mu       sync.Mutex
		all      []time.Duration
		errs     int
		firstErr string
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1024)
			nerr, first := 0, ""
			for ctx.Err() == nil {
				if o.Requests > 0 && issued.Add(1) > int64(o.Requests) {
					break
				}
				t0 := time.Now()
				err := op(ctx)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						break // cut off by the deadline, not a failure
					}
					nerr++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				lat = append(lat, d)
			}
			mu.Lock()
			all = append(all, lat...)
			errs += nerr
			if firstErr == "" {
				firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	r := Result{Requests: len(all), Errors: errs, Elapsed: elapsed, FirstError: firstErr}
	if len(all) > 0 {
		r.RPS = float64(len(all)) / elapsed.Seconds()
		r.P50, r.P90, r.P99, r.Max = quantile(all, 0.50), quantile(all, 0.90), quantile(all, 0.99), all[len(all)-1]
	}
	return r, nil
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Get returns an op that GETs url with the given headers and expects
// status want, draining the body so connections are reused.
func Get(hc *http.Client, url string, header http.Header, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header = header.Clone()
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
		}
		return err
	}
}

// Client returns an HTTP client tuned for loopback load: enough idle
// connections for every worker, no proxy.
func Client(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        concurrency * 2,
		MaxIdleConnsPerHost: concurrency * 2,
		IdleConnTimeout:     30 * time.Second,
		Proxy:               nil,
	}, Timeout: 30 * time.Second}
}

// Median returns the median of xs (the mean of the middle two for an even
// count). It is how BENCHMARKS.md quotes noisy repeated runs.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
