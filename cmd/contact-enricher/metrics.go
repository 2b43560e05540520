package main

import (
	"github.com/prometheus/client_golang/prometheus"
)

// counterSum returns the sum of the counter or gauge samples named name
// whose labels include every pair of labels. Missing metrics count as 0.
func counterSum(g prometheus.Gatherer, name string, labels map[string]string) float64 {
	families, err := g.Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m.GetLabel(), labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func hasLabels[L interface {
	GetName() string
	GetValue() string
}](have []L, want map[string]string) bool {
	matched := 0
	for _, l := range have {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			matched++
		}
	}
	return matched == len(want)
}
