package orgmap

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSuggest measures the suggestion pass on n companies against n
// organisations, 60% of which spell one of the companies differently
// (names_test.go), at the default threshold: ref is the first
// implementation, every pair scored (reference_test.go); index is
// [suggest]. Both give the same suggestions (TestSuggestMatchesReference).
// BENCHMARKS.md reports the ratios.
func BenchmarkSuggest(b *testing.B) {
	for _, n := range []int{100, 1000, 3000} {
		companies, orgs := genSets(rand.New(rand.NewPCG(uint64(n), 1)), n, n, 0.6)
		for _, impl := range []struct {
			name string
			f    func([]Company, []Organization, float64) []Suggestion
		}{{"ref", refSuggest}, {"index", suggest}} {
			b.Run(fmt.Sprintf("n=%d/%s", n, impl.name), func(b *testing.B) {
				var got int
				for b.Loop() {
					got = len(impl.f(companies, orgs, DefaultThreshold))
				}
				b.ReportMetric(float64(got), "suggestions")
			})
		}
	}
}
