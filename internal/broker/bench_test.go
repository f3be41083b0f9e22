package broker_test

import (
	"testing"
	"time"

	"github.com/grantd/grantd/internal/provider"
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

// BenchmarkRefresh measures one forced refresh against the sandbox, end
// to end (lease, token request, id_token check, sealed write), with the
// write-ahead journal (rotation: maybe, the pax8 built-in) and without it
// (rotation: never, where a lost answer consumes nothing). The difference
// is the journal's cost: one conditional UPDATE before the request.
func BenchmarkRefresh(b *testing.B) {
	for _, bc := range []struct {
		name     string
		rotation provider.Rotation
	}{{"journaled", provider.RotationMaybe}, {"unjournaled", provider.RotationNever}} {
		b.Run(bc.name, func(b *testing.B) {
			s := strict()
			s.Rotation = bc.rotation != provider.RotationNever
			e := newEnv(b, withSettings(s), withProvider(func(p *provider.Provider) { p.RefreshToken.Rotation = bc.rotation }))
			ctx := b.Context()
			c := e.connect(ctx)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.b.Refresh(ctx, c.ID, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
