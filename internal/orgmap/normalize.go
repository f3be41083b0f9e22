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
