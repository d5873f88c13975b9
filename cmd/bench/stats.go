package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

type quantileSet struct{ min, p50, p99, max time.Duration }

// quantiles returns nearest-rank percentiles of ds (which it sorts).
func quantiles(ds []time.Duration) quantileSet {
	if len(ds) == 0 {
		return quantileSet{}
	}
	slices.Sort(ds)
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(ds)))) - 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	return quantileSet{min: ds[0], p50: rank(0.50), p99: rank(0.99), max: ds[len(ds)-1]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// spread is the median and range of one figure over repeated runs.
type spread struct{ median, lo, hi float64 }

func spreadOf(xs []float64) spread {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return spread{}
	}
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return spread{median: med, lo: s[0], hi: s[n-1]}
}

// format prints the median, and the range when there are several runs.
func (s spread) format(verb, unit string, runs int) string {
	if runs == 1 {
		return fmt.Sprintf(verb+"%s", s.median, unit)
	}
	return fmt.Sprintf(verb+"%s ("+verb+"–"+verb+")", s.median, unit, s.lo, s.hi)
}
