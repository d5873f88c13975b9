package review

import "testing"

// SetFewMatches sets how many matches of a search with other conditions
// are read by rowid, until the test ends: the fixture's few findings
// take either way by it.
func SetFewMatches(t testing.TB, n int) {
	old := fewMatches
	fewMatches = n
	t.Cleanup(func() { fewMatches = old })
}

// SetMatchBudget sets matchBudget for the test.
func SetMatchBudget(t *testing.T, n int) {
	old := matchBudget
	matchBudget = n
	t.Cleanup(func() { matchBudget = old })
}

// SetMaxCandidates sets maxCandidates for the test.
func SetMaxCandidates(t *testing.T, n int) {
	old := maxCandidates
	maxCandidates = n
	t.Cleanup(func() { maxCandidates = old })
}

// SetDensityProbe sets densityProbe for the test: the fixture's few
// matches are walked (walkMatches) with a probe of a few.
func SetDensityProbe(t *testing.T, n int) {
	old := densityProbe
	densityProbe = n
	t.Cleanup(func() { densityProbe = old })
}
