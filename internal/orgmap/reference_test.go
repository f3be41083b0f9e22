package orgmap

import (
	"cmp"
	"slices"
	"strings"
)

// This file keeps the first implementation of the name matching, which
// compared every company with every organisation, as the reference that
// the indexed [suggest] and the faster [Similarity] are checked against
// (suggest_test.go) and measured against (bench_test.go). It is the code
// as it was, renamed with a ref prefix; [Normalize] did not change.

// refSimilarity is the first [Similarity].
func refSimilarity(a, b string) float64 {
	return refSimilarityOf(refNewName(Normalize(a)), refNewName(Normalize(b)))
}

type refName struct {
	joined string           // the words without spaces
	words  []string         // the words
	grams  []map[string]int // the bigrams of each word
}

func refNewName(norm string) refName {
	n := refName{joined: strings.ReplaceAll(norm, " ", ""), words: strings.Fields(norm)}
	n.grams = make([]map[string]int, len(n.words))
	for i, w := range n.words {
		n.grams[i] = refBigrams(w)
	}
	return n
}

func refSimilarityOf(a, b refName) float64 {
	if a.joined == "" || b.joined == "" {
		return 0
	}
	if a.joined == b.joined {
		return 1
	}
	return (refCoverage(a, b) + refCoverage(b, a)) / 2
}

func refCoverage(a, b refName) float64 {
	var sum, weight float64
	for i, w := range a.words {
		best := 0.0
		for j, u := range b.words {
			if w == u {
				best = 1
				break
			}
			best = max(best, refDice(a.grams[i], b.grams[j]))
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

func refBigrams(w string) map[string]int {
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

func refDice(a, b map[string]int) float64 {
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

// refSuggest is the first suggest: every company scored against every
// organisation.
func refSuggest(companies []Company, orgs []Organization, threshold float64) []Suggestion {
	var cands []Suggestion
	onames := make([]refName, len(orgs))
	for i, o := range orgs {
		onames[i] = refNewName(Normalize(o.Name))
	}
	for _, c := range companies {
		cn := refNewName(Normalize(c.Name))
		for i, o := range orgs {
			if score := refSimilarityOf(cn, onames[i]); score >= threshold {
				cands = append(cands, Suggestion{CompanyID: c.ID, CompanyName: c.Name, OrgID: o.ID, OrgName: o.Name, Score: score})
			}
		}
	}
	slices.SortFunc(cands, func(a, b Suggestion) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.CompanyID, b.CompanyID), cmp.Compare(a.OrgID, b.OrgID))
	})
	usedC, usedO := map[string]bool{}, map[string]bool{}
	out := []Suggestion{}
	for _, s := range cands {
		if usedC[s.CompanyID] || usedO[s.OrgID] {
			continue
		}
		usedC[s.CompanyID], usedO[s.OrgID] = true, true
		s.Score = float64(int(s.Score*1000+0.5)) / 1000
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		return cmp.Or(cmp.Compare(a.CompanyName, b.CompanyName), cmp.Compare(a.CompanyID, b.CompanyID))
	})
	return out
}

// refScores returns the reference score of every company (row) against
// every organisation (column).
func refScores(companies []Company, orgs []Organization) [][]float64 {
	onames := make([]refName, len(orgs))
	for i, o := range orgs {
		onames[i] = refNewName(Normalize(o.Name))
	}
	out := make([][]float64, len(companies))
	for ci, c := range companies {
		cn := refNewName(Normalize(c.Name))
		out[ci] = make([]float64, len(orgs))
		for i := range orgs {
			out[ci][i] = refSimilarityOf(cn, onames[i])
		}
	}
	return out
}

// refPairs returns every pair that scores at or above threshold in
// scores (from [refScores]), keyed "company|org", with its unrounded
// score: the candidates the greedy pick chooses from.
func refPairs(scores [][]float64, companies []Company, orgs []Organization, threshold float64) map[string]float64 {
	out := map[string]float64{}
	for ci, c := range companies {
		for i, o := range orgs {
			if s := scores[ci][i]; s >= threshold {
				out[c.ID+"|"+o.ID] = s
			}
		}
	}
	return out
}
