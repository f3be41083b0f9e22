package pax8api

import (
	"encoding/hex"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// rng is the deterministic random source behind generated data and new ids.
// It is not safe for concurrent use; each dataset guards its own with the
// dataset lock.
type rng struct {
	r *rand.Rand
}

// newRNG seeds a PCG generator from the seed and a label (a partner id, or a
// record id for lazily generated detail), so each stream is independent and
// reproducible.
func newRNG(seed int64, label string) *rng {
	h := fnv.New64a()
	h.Write([]byte(label))
	return &rng{r: rand.New(rand.NewPCG(uint64(seed), h.Sum64()))}
}

// uuid returns a random-looking version 4 UUID drawn from the stream.
func (g *rng) uuid() string {
	var b [16]byte
	hi, lo := g.r.Uint64(), g.r.Uint64()
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// intn returns an int in [0, n).
func (g *rng) intn(n int) int { return g.r.IntN(n) }

// between returns an int in [lo, hi].
func (g *rng) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

// chance reports true with probability p.
func (g *rng) chance(p float64) bool { return g.r.Float64() < p }

// float returns a float in [lo, hi).
func (g *rng) float(lo, hi float64) float64 { return lo + g.r.Float64()*(hi-lo) }

// pick returns a random element of s.
func pick[T any](g *rng, s []T) T { return s[g.r.IntN(len(s))] }

// money rounds to cents.
func money(v float64) float64 { return math.Round(v*100) / 100 }
