package bench

import (
	"math"
	"slices"
	"time"
)

// Summary describes a series of samples: latencies in milliseconds or
// throughputs in their unit.
type Summary struct {
	N    int `json:"n"`
	Min  Num `json:"min"`
	P50  Num `json:"p50"`
	P90  Num `json:"p90"`
	P99  Num `json:"p99"`
	Max  Num `json:"max"`
	Mean Num `json:"mean"`
}

// Percentile is the p-th percentile (0 to 100) of sorted samples, linearly
// interpolated between the two nearest ranks (numpy's default). It is
// NaN for no samples.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return math.NaN()
	case n == 1 || p <= 0:
		return sorted[0]
	case p >= 100:
		return sorted[n-1]
	}
	rank := p / 100 * float64(n-1)
	lo := int(math.Floor(rank))
	frac := rank - float64(lo)
	if lo+1 >= n {
		return sorted[n-1]
	}
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// Summarize sorts a copy of xs and describes it.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		nan := Num(math.NaN())
		return Summary{Min: nan, P50: nan, P90: nan, P99: nan, Max: nan, Mean: nan}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return Summary{
		N: len(s), Min: Num(s[0]), Max: Num(s[len(s)-1]), Mean: Num(sum / float64(len(s))),
		P50: Num(Percentile(s, 50)), P90: Num(Percentile(s, 90)), P99: Num(Percentile(s, 99)),
	}
}

// ms is d in (fractional) milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// msAll converts durations to milliseconds.
func msAll(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = ms(d)
	}
	return out
}

// mibps is the throughput of moving size bytes in d, in MiB/s.
func mibps(size int64, d time.Duration) float64 {
	if d <= 0 {
		return math.Inf(1)
	}
	return float64(size) / (1 << 20) / d.Seconds()
}

// mibpsAll is the throughput of each of ds for size bytes.
func mibpsAll(size int64, ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = mibps(size, d)
	}
	return out
}
