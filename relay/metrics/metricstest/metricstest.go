// Package metricstest reads the relay's metrics in tests, as gathered for
// a scrape, so that a test can wait for what the relay counted.
package metricstest

import (
	"testing"

	"github.com/qianliyan/qianliyan/relay/metrics"
)

// Value returns m's metric name summed over the series whose labels
// include labels (every series when nil): a counter's or a gauge's value,
// a histogram's count of samples. It is 0 for a metric with no such series.
func Value(t testing.TB, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatalf("gathering the relay's metrics: %v", err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			switch {
			case s.Counter != nil:
				sum += s.Counter.GetValue()
			case s.Gauge != nil:
				sum += s.Gauge.GetValue()
			case s.Histogram != nil:
				sum += float64(s.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}
