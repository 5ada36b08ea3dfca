package load

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// nearestRank is the exact quantile of sorted values by the nearest-rank rule.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestHistogramEmpty(t *testing.T) {
	var h Histogram
	if h.Count() != 0 || h.Quantile(0.5) != 0 || h.Min() != 0 || h.Max() != 0 {
		t.Fatalf("empty histogram: count %d, p50 %v, min %v, max %v", h.Count(), h.Quantile(0.5), h.Min(), h.Max())
	}
}

func TestHistogramSmallValuesExact(t *testing.T) {
	var h Histogram
	for v := 100; v >= 1; v-- { // order must not matter
		h.Record(time.Duration(v))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{
		{0.001, 1}, {0.01, 1}, {0.5, 50}, {0.505, 51}, {0.99, 99}, {0.999, 100}, {1, 100},
	} {
		if got := h.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 {
		t.Errorf("count %d min %v max %v, want 100 1ns 100ns", h.Count(), h.Min(), h.Max())
	}
}

func TestHistogramNegativeIsZero(t *testing.T) {
	var h Histogram
	h.Record(-5)
	if h.Min() != 0 || h.Quantile(1) != 0 {
		t.Fatalf("min %v p100 %v, want 0", h.Min(), h.Quantile(1))
	}
}

// Every value falls in the bucket bucketRange says, and buckets follow one
// another without gaps or overlaps.
func TestHistogramBuckets(t *testing.T) {
	prevEnd := uint64(0)
	for i := range bucket(uint64(time.Hour)) {
		low, width := bucketRange(i)
		if low != prevEnd {
			t.Fatalf("bucket %d starts at %d, want %d", i, low, prevEnd)
		}
		if bucket(low) != i || bucket(low+width-1) != i {
			t.Fatalf("bucket %d [%d, %d): bucket(low) = %d, bucket(last) = %d", i, low, low+width, bucket(low), bucket(low+width-1))
		}
		if low >= exact && float64(width)/float64(low) > 1.0/(1<<subBits) {
			t.Fatalf("bucket %d [%d, +%d) is wider than the stated precision", i, low, width)
		}
		prevEnd = low + width
	}
}

// Quantiles of a spread of latencies from 1 µs to 1 s are within the
// histogram's precision of the exact ones.
func TestHistogramQuantilesWithinPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	values := make([]time.Duration, 200_000)
	for i := range values {
		// Log-uniform between 1 µs and 1 s, as latencies spread.
		v := time.Duration(math.Exp(r.Float64()*math.Log(1e6)) * 1e3)
		values[i] = v
		h.Record(v)
	}
	slices.Sort(values)
	for _, q := range []float64{0.0001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		want := nearestRank(values, q)
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 1.0/(1<<subBits) {
			t.Errorf("Quantile(%v) = %v, exact %v: off by %.3f%%", q, got, want, 100*rel)
		}
	}
	if h.Min() != values[0] || h.Max() != values[len(values)-1] {
		t.Errorf("min/max %v/%v, want %v/%v", h.Min(), h.Max(), values[0], values[len(values)-1])
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		v := time.Duration(i*i) * time.Microsecond
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&Histogram{})
	merged.Merge(&b)
	if merged.Count() != all.Count() || merged.Min() != all.Min() || merged.Max() != all.Max() {
		t.Fatalf("merged count/min/max %d/%v/%v, want %d/%v/%v", merged.Count(), merged.Min(), merged.Max(), all.Count(), all.Min(), all.Max())
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		if merged.Quantile(q) != all.Quantile(q) {
			t.Errorf("Quantile(%v): merged %v, recorded together %v", q, merged.Quantile(q), all.Quantile(q))
		}
	}
}
