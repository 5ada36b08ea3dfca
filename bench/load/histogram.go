package load

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power-of-two range of
// values is split into 1<<subBits equal buckets, so a recorded value is
// known to within 1/(1<<subBits) of itself (under 0.8%).
const subBits = 7

// exact is the number of values counted exactly, one bucket each (0 to 255 ns).
const exact = 2 << subBits

// Histogram counts durations in log-linear buckets, in the manner of an HDR
// histogram: values under 256 ns exactly, larger ones to within 0.8%. It
// takes a fixed amount of memory, whatever the number of values. The zero
// value is empty and ready to use; a Histogram is not safe for concurrent
// use.
type Histogram struct {
	counts   []uint64
	n        uint64
	min, max time.Duration
}

// bucket returns the index of the bucket that counts v (v >= 0).
func bucket(v uint64) int {
	if v < exact {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1) // v>>shift is in [128, 255]
	return (shift+1)<<subBits + int(v>>shift) - 1<<subBits
}

// bucketRange returns the smallest value that bucket i counts and its width.
func bucketRange(i int) (low, width uint64) {
	if i < exact {
		return uint64(i), 1
	}
	shift := i>>subBits - 1
	mantissa := uint64(i&(1<<subBits-1) + 1<<subBits)
	return mantissa << shift, 1 << shift
}

// Record adds one value; negative values count as zero.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	i := bucket(uint64(d))
	if i >= len(h.counts) {
		// Grow to the bucket needed, at least to 1 s, so that a run
		// allocates at most a few times.
		n := max(i+1, bucket(uint64(time.Second))+1)
		h.counts = append(h.counts, make([]uint64, n-len(h.counts))...)
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
}

// Merge adds the counts of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Min returns the smallest value recorded, exactly (0 when empty).
func (h *Histogram) Min() time.Duration { return h.min }

// Max returns the largest value recorded, exactly (0 when empty).
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the value under which a fraction q (0 < q <= 1) of the
// recorded values fall, by the nearest-rank rule: the ceil(q*n)-th smallest
// value, to within the histogram's precision, and never outside [Min, Max].
// Quantile(0.5) is the median, Quantile(0.99) the 99th percentile. It
// returns 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketRange(i)
			mid := time.Duration(low + (width-1)/2)
			return min(max(mid, h.min), h.max)
		}
	}
	return h.max
}
