package load_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/load"
)

func TestRunBoundedByCount(t *testing.T) {
	var n atomic.Int64
	r, err := load.Run(t.Context(), load.Options{Concurrency: 8, Requests: 1000}, func(context.Context) error {
		if n.Add(1)%100 == 0 {
			return errors.New("every hundredth fails")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 1000 || r.Requests != 990 || r.Errors != 10 {
		t.Errorf("ops %d, ok %d, errors %d; want 1000, 990, 10", n.Load(), r.Requests, r.Errors)
	}
	if r.P50 > r.P99 || r.P99 > r.Max {
		t.Errorf("quantiles out of order: %v", r)
	}
}

func TestRunBoundedByTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	defer srv.Close()
	start := time.Now()
	r, err := load.Run(t.Context(), load.Options{Concurrency: 4, Duration: 200 * time.Millisecond}, load.Get(load.Client(4), srv.URL, nil, 200))
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("run took %s, want about 200ms", took)
	}
	if r.Requests == 0 || r.Errors != 0 {
		t.Errorf("result %v, want requests and no errors", r)
	}
	if _, err := load.Run(t.Context(), load.Options{}, nil); err == nil {
		t.Error("unbounded run accepted")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := load.Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
