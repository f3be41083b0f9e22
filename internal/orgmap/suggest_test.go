package orgmap

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// propertyThresholds are the thresholds the index is checked at: the
// default, the ones the other tests use, both sides of 0.5 (below which
// the index can prune nothing but pairs with no letter pair in common),
// 1 and above.
var propertyThresholds = []float64{0.05, 0.3, 0.5, 0.5000001, 0.6, 0.7, 0.75, DefaultThreshold, 0.85, 0.9, 0.95, 0.999, 1, 1.2}

// TestSimilarityMatchesReference checks that [Similarity] returns exactly
// (to the bit) what the first implementation (reference_test.go) did, on
// realistic and on small-alphabet names.
func TestSimilarityMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 20000 {
		var a, b string
		switch i % 3 {
		case 0:
			a, b = genName(r), genName(r)
		case 1:
			a = genName(r)
			b = genVariant(r, a)
		default:
			a, b = genOdd(r), genOdd(r)
		}
		got, want := Similarity(a, b), refSimilarity(a, b)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("Similarity(%q, %q) = %v, reference %v", a, b, got, want)
		}
	}
}

// indexPairs returns every pair the index finds and scores at or above
// threshold, keyed as [refPairs] keys them.
func indexPairs(companies []Company, orgs []Organization, threshold float64) map[string]float64 {
	onames := make([]name, len(orgs))
	for i, o := range orgs {
		onames[i] = newName(Normalize(o.Name))
	}
	idx := newNameIndex(onames, threshold)
	out := map[string]float64{}
	for _, c := range companies {
		cn := newName(Normalize(c.Name))
		for _, i := range idx.candidates(cn, nil) {
			if s := similarity(cn, onames[i]); s >= threshold {
				out[c.ID+"|"+orgs[i].ID] = s
			}
		}
	}
	return out
}

// TestSuggestMatchesReference is the property test of the index: on
// generated sets of names, at every threshold of [propertyThresholds], the
// pairs the index finds at or above the threshold are exactly those that
// scoring every company against every organisation finds, with the same
// scores, and so [suggest] returns what the reference [refSuggest] did.
func TestSuggestMatchesReference(t *testing.T) {
	type set struct {
		name      string
		companies []Company
		orgs      []Organization
	}
	var sets []set
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 1))
		c, o := genSets(r, 150, 150, 0.6)
		sets = append(sets, set{fmt.Sprintf("realistic/seed=%d", seed), c, o})
		c, o = genOddSets(r, 80, 80)
		sets = append(sets, set{fmt.Sprintf("odd/seed=%d", seed), c, o})
	}
	r := rand.New(rand.NewPCG(99, 1))
	c, o := genSets(r, 40, 300, 0.9)
	sets = append(sets, set{"few companies, many variants", c, o})
	c, o = genSets(r, 300, 20, 0.9)
	sets = append(sets, set{"many companies, few organisations", c, o})
	sets = append(sets, set{"empty", nil, nil}, set{"no organisations", c, nil})

	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			suggested := 0
			scores := refScores(s.companies, s.orgs)
			for _, th := range propertyThresholds {
				want, got := refPairs(scores, s.companies, s.orgs, th), indexPairs(s.companies, s.orgs, th)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("threshold %v: pairs at or above it (-reference +index):\n%s", th, diff)
				}
				if th != DefaultThreshold && th != 0.5 {
					continue
				}
				wantS, gotS := refSuggest(s.companies, s.orgs, th), suggest(s.companies, s.orgs, th)
				if diff := cmp.Diff(wantS, gotS); diff != "" {
					t.Fatalf("threshold %v: suggest (-reference +index):\n%s", th, diff)
				}
				suggested += len(gotS)
			}
			if len(s.companies) > 0 && len(s.orgs) > 0 && suggested == 0 {
				t.Errorf("no suggestions at all: the set tests nothing")
			}
		})
	}
}

// TestIndexPrunes checks that the index is an index: on a realistic set
// at the default threshold it scores a small part of all the pairs. (It
// counts candidates; it does not time anything.)
func TestIndexPrunes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	companies, orgs := genSets(r, 1000, 1000, 0.6)
	onames := make([]name, len(orgs))
	for i, o := range orgs {
		onames[i] = newName(Normalize(o.Name))
	}
	idx := newNameIndex(onames, DefaultThreshold)
	scored := 0
	for _, c := range companies {
		scored += len(idx.candidates(newName(Normalize(c.Name)), nil))
	}
	all := len(companies) * len(orgs)
	t.Logf("scored %d of %d pairs (%.1f%%)", scored, all, 100*float64(scored)/float64(all))
	if scored > all/10 {
		t.Errorf("the index scored %d of %d pairs, want at most a tenth", scored, all)
	}
}
