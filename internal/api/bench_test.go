package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grantd/grantd/internal/store"
)

// The token route's throughput goal is at least 0.7x that of a bare
// net/http handler writing a constant JSON body of the same size, at
// concurrency 32. Compare:
//
//	go test -run '^$' -bench 'TokenHandler|BareHandler' ./internal/api/

func tokenBench(b *testing.B) (http.Handler, string, string, []byte) {
	e := newEnv(b)
	tid, key := e.tenant("bench")
	id := e.connection(tid, "at-benchmark-access-token-of-a-typical-length-0123456789abcdefghijklmnopqrstuvwxyz", store.StatusActive)
	path := "/v1/connections/" + id + "/token"
	// Warm the key and token caches and capture the body size.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	e.api.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("warm-up status %d: %s", rec.Code, rec.Body)
	}
	return e.api, path, key, rec.Body.Bytes()
}

func runParallel(b *testing.B, h http.Handler, path, key string) {
	b.SetParallelism(16) // 16 x GOMAXPROCS(2 here) = 32 concurrent callers
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}

// BenchmarkTokenHandler measures GET /v1/connections/{id}/token through the
// whole API stack (routing, key cache, broker token cache, metrics).
func BenchmarkTokenHandler(b *testing.B) {
	h, path, key, _ := tokenBench(b)
	runParallel(b, h, path, key)
}

// BenchmarkBareHandler is the baseline: a bare handler on a ServeMux
// writing a constant JSON body as large as the token response.
func BenchmarkBareHandler(b *testing.B) {
	_, path, key, body := tokenBench(b)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/connections/{id}/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	runParallel(b, mux, path, key)
}
