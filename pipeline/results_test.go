package pipeline

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestResultsIndexFreshness(t *testing.T) {
	x := &resultsIndex{freshness: time.Hour, entries: make(map[uint64]resultLocation), next: make(map[int32]int64)}
	now := time.Now()
	x.add(kafka.Message{Key: []byte("https://www.linkedin.com/in/new"), Value: []byte("{}"), Partition: 1, Offset: 7, Time: now.Add(-time.Minute)})
	x.add(kafka.Message{Key: []byte("https://www.linkedin.com/in/old"), Value: []byte("{}"), Partition: 0, Offset: 3, Time: now.Add(-2 * time.Hour)})

	loc, ok := x.lookup("https://www.linkedin.com/in/new", now)
	if !ok || loc.partition != 1 || loc.offset != 7 {
		t.Errorf("lookup of a fresh result = %+v, %t; want partition 1 offset 7", loc, ok)
	}
	if _, ok := x.lookup("https://www.linkedin.com/in/old", now); ok {
		t.Error("a result older than the freshness window was returned")
	}
	if _, ok := x.lookup("https://www.linkedin.com/in/unknown", now); ok {
		t.Error("an unknown URL was returned")
	}
}

// BenchmarkResultsIndexMemory reports the heap the index takes per URL
// (bytes/url) at one million URLs.
func BenchmarkResultsIndexMemory(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := &resultsIndex{entries: make(map[uint64]resultLocation)}
		for i := range n {
			x.entries[urlHash(fmt.Sprintf("https://www.linkedin.com/in/person-%d", i))] = resultLocation{written: uint32(i), offset: int64(i)}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/url")
		runtime.KeepAlive(x)
	}
}
