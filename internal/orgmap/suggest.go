package orgmap

import (
	"cmp"
	"math"
	"slices"
)

// suggest pairs unmapped companies with unmapped organisations, best
// score first, each side used at most once.
//
// It scores only the pairs that an index of the organisations' names
// ([nameIndex]) names as able to reach threshold, rather than every
// company against every organisation, and picks from exactly the pairs
// that scoring every pair would have found, with the same scores, so the
// result is the same.
func suggest(companies []Company, orgs []Organization, threshold float64) []Suggestion {
	onames := make([]name, len(orgs))
	for i, o := range orgs {
		onames[i] = newName(Normalize(o.Name))
	}
	idx := newNameIndex(onames, threshold)
	var cands []Suggestion
	var buf []int32
	for _, c := range companies {
		cn := newName(Normalize(c.Name))
		buf = idx.candidates(cn, buf[:0])
		for _, i := range buf {
			if score := similarity(cn, onames[i]); score >= threshold {
				o := orgs[i]
				cands = append(cands, Suggestion{CompanyID: c.ID, CompanyName: c.Name, OrgID: o.ID, OrgName: o.Name, Score: score})
			}
		}
	}
	return pick(cands)
}

// pick chooses among the candidate pairs greedily from the highest score
// down, ties broken by company id and then organisation id, each company
// and each organisation at most once, and returns the chosen ones sorted
// by company name with scores rounded to three decimals.
func pick(cands []Suggestion) []Suggestion {
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

// nameIndex finds, for a name, the organisations whose [similarity] with
// it can reach a threshold t, so that only those are scored. It misses
// none, by this reasoning:
//
//   - Names equal once spaces are removed score 1: they are found in a map
//     of the joined names (they may share no letter pair at all: "a b"
//     and "ab").
//   - Otherwise the score is the mean of two coverages, each a weighted
//     mean of per-word best Dice scores, so it is at most the best
//     dice(w, u) of any word w of one name and u of the other: a pair
//     scoring t has two such words with dice(w, u) ≥ t. The index finds,
//     for each word of the name, the organisation words that reach t
//     with it, checking each such pair of distinct words once, and
//     returns the organisations that hold them.
//   - To find those words without comparing with every one: with p and q
//     letter pairs in w and u and c in common, dice ≥ t means
//     2c ≥ t(p+q) and c ≤ min(p, q), hence q ≥ tp/(2−t) and so
//     c ≥ tp/(2−t): at least minShare(p) pairs in common, and as many for
//     q.
//   - Prefix filtering: order every word's letter pairs by one global
//     order (rarest first, a repeated pair counted as distinct tokens).
//     Two words with at least k tokens in common share a token among the
//     first p−k+1 of one and the first q−k+1 of the other. So the index
//     lists each organisation word under the first q−minShare(q)+1 of its
//     tokens, and a word is looked up by its first p−minShare(p)+1.
//
// t is lowered by 1e-9 so that rounding in the scores cannot hide a pair
// from the index. At the default threshold 0.8 a word of 8 letters is
// looked up by its 3 rarest pairs of 7, and what the index returns are
// the organisations that share a word, or nearly (a letter or two apart),
// with the name. A nameIndex is for one goroutine.
type nameIndex struct {
	delta  float64
	exact  map[string][]int32  // joined name → organisations
	words  []word              // the distinct organisation words
	orgsOf [][]int32           // word → organisations holding it
	tokens map[gramToken]int32 // token → its id
	df     []int32             // token id → organisation words holding it
	post   [][]int32           // token id → words with it in their prefix
	near   map[string][]int32  // looked-up word → words that reach delta with it
	seen   []int               // organisation → the stamp of the last lookup that found it
	stamp  int                 // the current lookup
	wseen  []int               // word → the stamp of the last word lookup that found it
	wstamp int                 // the current word lookup
	probe  []int32             // scratch: a looked-up word's token ids
}

// gramToken is the nth occurrence (from 0) of a letter pair in a word.
type gramToken struct {
	gram uint64
	nth  int32
}

// forTokens calls f with each token of a word's sorted letter pairs.
func forTokens(grams []uint64, f func(gramToken)) {
	nth := int32(0)
	for i, g := range grams {
		if i > 0 && grams[i-1] == g {
			nth++
		} else {
			nth = 0
		}
		f(gramToken{g, nth})
	}
}

func newNameIndex(orgs []name, threshold float64) *nameIndex {
	x := &nameIndex{
		delta:  threshold - 1e-9,
		exact:  make(map[string][]int32),
		tokens: make(map[gramToken]int32),
		near:   make(map[string][]int32),
		seen:   make([]int, len(orgs)),
	}
	// Intern the distinct words, and the tokens of each, counting in how
	// many words each token appears; then list each word under its prefix.
	wordID := make(map[string]int32)
	var wtokens [][]int32
	for i, n := range orgs {
		if n.joined == "" {
			continue
		}
		o := int32(i)
		x.exact[n.joined] = append(x.exact[n.joined], o)
		for _, w := range n.words {
			id, ok := wordID[w.text]
			if !ok {
				id = int32(len(x.words))
				wordID[w.text] = id
				x.words = append(x.words, w)
				x.orgsOf = append(x.orgsOf, nil)
				ids := make([]int32, 0, len(w.grams))
				forTokens(w.grams, func(t gramToken) {
					tid, ok := x.tokens[t]
					if !ok {
						tid = int32(len(x.df))
						x.tokens[t] = tid
						x.df = append(x.df, 0)
					}
					x.df[tid]++
					ids = append(ids, tid)
				})
				wtokens = append(wtokens, ids)
			}
			if os := x.orgsOf[id]; len(os) == 0 || os[len(os)-1] != o {
				x.orgsOf[id] = append(os, o)
			}
		}
	}
	x.post = make([][]int32, len(x.df))
	for id, ids := range wtokens {
		x.order(ids)
		for _, tid := range ids[:x.prefix(len(ids))] {
			x.post[tid] = append(x.post[tid], int32(id))
		}
	}
	x.wseen = make([]int, len(x.words))
	return x
}

// order sorts token ids rarest first, the global order of the prefixes.
func (x *nameIndex) order(ids []int32) {
	slices.SortFunc(ids, func(a, b int32) int {
		return cmp.Or(cmp.Compare(x.df[a], x.df[b]), cmp.Compare(a, b))
	})
}

// minShare is the fewest tokens a word of n tokens must share with another
// for their Dice coefficient to reach delta.
func (x *nameIndex) minShare(n int) int {
	if x.delta <= 0 {
		return 1
	}
	k := int(math.Ceil(x.delta*float64(n)/(2-x.delta) - 1e-9))
	return max(k, 1)
}

// prefix is how many of a word's n tokens, in the global order, are
// indexed or looked up.
func (x *nameIndex) prefix(n int) int {
	if x.delta > 1 {
		return 0 // a threshold above 1: no two words reach it
	}
	return max(n-x.minShare(n)+1, 0)
}

// nearWords returns the organisation words whose Dice coefficient with w
// reaches delta, remembering the answer for the next name with w.
func (x *nameIndex) nearWords(w word) []int32 {
	if ws, ok := x.near[w.text]; ok {
		return ws
	}
	// Tokens that no organisation word has come first in the global order
	// (they are in no word, so are the rarest) and find nothing.
	x.probe = x.probe[:0]
	absent := 0
	forTokens(w.grams, func(t gramToken) {
		if id, ok := x.tokens[t]; ok {
			x.probe = append(x.probe, id)
		} else {
			absent++
		}
	})
	ws := []int32{}
	if look := min(x.prefix(len(w.grams))-absent, len(x.probe)); look > 0 {
		x.order(x.probe)
		x.wstamp++
		for _, tid := range x.probe[:look] {
			for _, u := range x.post[tid] {
				if x.wseen[u] == x.wstamp {
					continue
				}
				x.wseen[u] = x.wstamp
				if v := x.words[u]; v.text == w.text || dice(w.grams, v.grams) >= x.delta {
					ws = append(ws, u)
				}
			}
		}
	}
	x.near[w.text] = ws
	return ws
}

// candidates appends to buf the organisations that may reach the
// threshold against n, each once, and returns it.
func (x *nameIndex) candidates(n name, buf []int32) []int32 {
	if n.joined == "" {
		return buf
	}
	x.stamp++
	add := func(o int32) {
		if x.seen[o] != x.stamp {
			x.seen[o] = x.stamp
			buf = append(buf, o)
		}
	}
	for _, o := range x.exact[n.joined] {
		add(o)
	}
	for _, w := range n.words {
		for _, u := range x.nearWords(w) {
			for _, o := range x.orgsOf[u] {
				add(o)
			}
		}
	}
	return buf
}
