package orgmap

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Similarity scores how alike two names are, from 0 (nothing in common) to
// 1 (the same after [Normalize], spaces aside). It compares the names word
// by word: each word of one name is scored against its closest word in the
// other by the Sørensen–Dice coefficient of their letter pairs, weighted by
// its length, and the two directions are averaged. A one-letter spelling
// difference in a word costs a little ("Harbor" and "Harbour"), a
// different word costs it all ("Northwind" and "Southwind" share only half
// their letter pairs), and an extra word ("Care") costs in proportion to
// its length. It is symmetric and deterministic.
func Similarity(a, b string) float64 {
	return similarity(newName(Normalize(a)), newName(Normalize(b)))
}

// name is a normalised name prepared for scoring.
type name struct {
	joined string // the words without spaces
	words  []word
}

// word is one word of a name prepared for scoring.
type word struct {
	text  string
	runes int      // its length in letters, its weight in [coverage]
	grams []uint64 // its letter pairs ([bigrams]), sorted, repeats kept
}

func newName(norm string) name {
	n := name{joined: strings.ReplaceAll(norm, " ", "")}
	for w := range strings.FieldsSeq(norm) {
		n.words = append(n.words, word{text: w, runes: utf8.RuneCountInString(w), grams: bigrams(w)})
	}
	return n
}

func similarity(a, b name) float64 {
	if a.joined == "" || b.joined == "" {
		return 0
	}
	if a.joined == b.joined {
		return 1
	}
	if len(a.words)*len(b.words) > maxPairs {
		return (coverage(a, b) + coverage(b, a)) / 2
	}
	// Dice is symmetric: score each pair of words once, for both
	// directions.
	var d [maxPairs]float64
	nb := len(b.words)
	for i, w := range a.words {
		for j, u := range b.words {
			if w.text == u.text {
				d[i*nb+j] = 1
			} else {
				d[i*nb+j] = dice(w.grams, u.grams)
			}
		}
	}
	var sumA, weightA, sumB, weightB float64
	for i, w := range a.words {
		best := 0.0
		for j := range nb {
			best = max(best, d[i*nb+j])
		}
		l := float64(w.runes)
		sumA += l * best
		weightA += l
	}
	for j, u := range b.words {
		best := 0.0
		for i := range a.words {
			best = max(best, d[i*nb+j])
		}
		l := float64(u.runes)
		sumB += l * best
		weightB += l
	}
	return (sumA/weightA + sumB/weightB) / 2
}

// maxPairs bounds the word pairs [similarity] scores once for both
// directions; longer names are scored by [coverage] each way.
const maxPairs = 64

// coverage is how well the words of a are found in b: the mean, weighted
// by word length, of each word's best Dice score against b's words.
func coverage(a, b name) float64 {
	var sum, weight float64
	for _, w := range a.words {
		best := 0.0
		for _, u := range b.words {
			if w.text == u.text {
				best = 1
				break
			}
			best = max(best, dice(w.grams, u.grams))
		}
		l := float64(w.runes)
		sum += l * best
		weight += l
	}
	if weight == 0 {
		return 0
	}
	return sum / weight
}

// oneLetter marks the key of a one-letter word's single "bigram": no rune
// is this large, so it never equals the first letter of a real pair.
const oneLetter = 0x1FFFFF

// bigram packs two letters into one key, first letter high.
func bigram(r1, r2 rune) uint64 { return uint64(r1)<<21 | uint64(r2) }

// bigrams returns the multiset of adjacent letter pairs of a word as a
// sorted list of keys. A one-letter word is its own single "bigram".
func bigrams(w string) []uint64 {
	rs := []rune(w)
	if len(rs) == 1 {
		return []uint64{bigram(oneLetter, rs[0])}
	}
	gs := make([]uint64, 0, max(len(rs)-1, 0))
	for i := 0; i+1 < len(rs); i++ {
		gs = append(gs, bigram(rs[i], rs[i+1]))
	}
	slices.Sort(gs)
	return gs
}

// dice is the Sørensen–Dice coefficient of two sorted multisets: twice
// the size of their intersection over the sum of their sizes.
func dice(a, b []uint64) float64 {
	common := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		// Branch-free merge: letter pairs compare unpredictably.
		x, y := a[i], b[j]
		i += b2i(x <= y)
		j += b2i(y <= x)
		common += b2i(x == y)
	}
	if len(a)+len(b) == 0 {
		return 0
	}
	return 2 * float64(common) / float64(len(a)+len(b))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
