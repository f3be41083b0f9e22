package broker_test

import (
	"testing"
	"time"
)

// BenchmarkToken measures broker.Token for a connection whose access token
// is valid: served from the in-process cache, and with the cache off (a
// SQLite read and an AES-GCM open per call). Reported in BENCHMARKS.md.
func BenchmarkToken(b *testing.B) {
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Hour}, {"store", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b)
			c := e.connect(b.Context())
			br := e.newBroker("bench", bc.ttl)
			ctx := b.Context()
			if _, err := br.Token(ctx, c.ID); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := br.Token(ctx, c.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
