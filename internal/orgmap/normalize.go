package orgmap

import (
	"strings"
	"unicode"
)

// legalSuffixes are company-form words that say nothing about which
// company is meant; [Normalize] drops them from the end of a name.
var legalSuffixes = map[string]bool{
	"inc": true, "incorporated": true, "llc": true, "pllc": true, "ltd": true, "limited": true,
	"corp": true, "corporation": true, "co": true, "company": true, "plc": true, "llp": true,
	"lp": true, "pc": true, "gmbh": true, "ag": true, "sa": true, "sarl": true, "srl": true,
	"bv": true, "nv": true, "pty": true, "oy": true, "ab": true, "as": true, "kg": true,
}

// Normalize reduces a company or organisation name to the words that
// identify it: lower case, "&" read as "and", punctuation removed (so
// "L.L.C." becomes "llc"), a leading "the" and trailing legal forms
// ("Inc.", "LLC", "Ltd", "GmbH", …) dropped, and the words joined by single
// spaces. A name made only of such words keeps them, so that "The Company"
// does not become empty. "Acme, Inc." and "ACME Inc" both normalise to
// "acme".
func Normalize(name string) string {
	words := splitWords(name)
	if len(words) == 0 {
		return ""
	}
	if allNoise(words) {
		return strings.Join(words, " ")
	}
	kept := words
	if len(kept) > 1 && kept[0] == "the" {
		kept = kept[1:]
	}
	for len(kept) > 1 && legalSuffixes[kept[len(kept)-1]] {
		kept = kept[:len(kept)-1]
	}
	return strings.Join(kept, " ")
}

// allNoise reports whether every word is "the" or a legal form.
func allNoise(words []string) bool {
	for _, w := range words {
		if w != "the" && !legalSuffixes[w] {
			return false
		}
	}
	return true
}

// splitWords lower-cases s, reads "&" and "+" as "and", splits it on
// anything that is not a letter or digit, and joins runs of single letters
// ("l l c" from "L.L.C.") into one word. Apostrophes join ("O'Brien" is
// "obrien").
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			// O'Brien, Macy's: part of the word.
		case r == '&' || r == '+':
			flush()
			words = append(words, "and")
		default:
			flush()
		}
	}
	flush()
	// Join runs of single letters: "a b c" from "A.B.C." is "abc".
	out := words[:0]
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && len([]rune(words[j])) == 1 && !isDigitWord(words[j]) {
			j++
		}
		if j-i >= 2 {
			out = append(out, strings.Join(words[i:j], ""))
			i = j
			continue
		}
		out = append(out, words[i])
		i++
	}
	return out
}

func isDigitWord(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

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
	joined string           // the words without spaces
	words  []string         // the words
	grams  []map[string]int // the bigrams of each word
}

func newName(norm string) name {
	n := name{joined: strings.ReplaceAll(norm, " ", ""), words: strings.Fields(norm)}
	n.grams = make([]map[string]int, len(n.words))
	for i, w := range n.words {
		n.grams[i] = bigrams(w)
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
	return (coverage(a, b) + coverage(b, a)) / 2
}

// coverage is how well the words of a are found in b: the mean, weighted
// by word length, of each word's best Dice score against b's words.
func coverage(a, b name) float64 {
	var sum, weight float64
	for i, w := range a.words {
		best := 0.0
		for j, u := range b.words {
			if w == u {
				best = 1
				break
			}
			best = max(best, dice(a.grams[i], b.grams[j]))
		}
		l := float64(len([]rune(w)))
		sum += l * best
		weight += l
	}
	if weight == 0 {
		return 0
	}
	return sum / weight
}

// bigrams returns the multiset of adjacent letter pairs of a word. A
// one-letter word is its own single "bigram".
func bigrams(w string) map[string]int {
	rs := []rune(w)
	m := make(map[string]int, len(rs))
	if len(rs) == 1 {
		m[w]++
		return m
	}
	for i := 0; i+1 < len(rs); i++ {
		m[string(rs[i:i+2])]++
	}
	return m
}

func dice(a, b map[string]int) float64 {
	na, nb, common := 0, 0, 0
	for k, n := range a {
		na += n
		common += min(n, b[k])
	}
	for _, n := range b {
		nb += n
	}
	if na+nb == 0 {
		return 0
	}
	return 2 * float64(common) / float64(na+nb)
}
