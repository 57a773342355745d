package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketBoundaries(t *testing.T) {
	// Every value falls in a bucket whose range contains it, and bucket
	// ranges are contiguous and increasing.
	prevHigh := int64(-1)
	for i := 0; i < numBuckets; i++ {
		hi := bucketHigh(i)
		if hi <= prevHigh {
			t.Fatalf("bucket %d high %d <= previous %d", i, hi, prevHigh)
		}
		if got := bucketOf(prevHigh + 1); got != i {
			t.Fatalf("value %d (first of bucket %d) maps to bucket %d", prevHigh+1, i, got)
		}
		if got := bucketOf(hi); got != i {
			t.Fatalf("value %d (last of bucket %d) maps to bucket %d", hi, i, got)
		}
		if hi == math.MaxInt64 {
			break
		}
		prevHigh = hi
	}
	if bucketOf(math.MaxInt64) != numBuckets-1 {
		t.Fatalf("MaxInt64 maps to %d, want the last bucket %d", bucketOf(math.MaxInt64), numBuckets-1)
	}
}

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestQuantilesAgainstExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string]func() int64{
		"uniform 0-100ms":   func() int64 { return rng.Int64N(100_000_000) },
		"lognormal ~2ms":    func() int64 { return int64(math.Exp(rng.NormFloat64()*0.8+math.Log(2e6)) + 1) },
		"small exact 0-127": func() int64 { return rng.Int64N(128) },
		"bimodal 1ms/250ms": func() int64 {
			if rng.IntN(100) < 97 {
				return 1_000_000 + rng.Int64N(100_000)
			}
			return 250_000_000 + rng.Int64N(1_000_000)
		},
	}
	for name, gen := range cases {
		t.Run(name, func(t *testing.T) {
			var h Histogram
			vals := make([]int64, 200_000)
			for i := range vals {
				vals[i] = gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 0.9999} {
				want := exactQuantile(vals, q)
				got := h.Quantile(q)
				if got < want {
					t.Errorf("q%.4f: got %d below the exact %d", q, got, want)
				}
				if rel := float64(got-want) / float64(max(want, 1)); want >= 128 && rel > 1.0/64 {
					t.Errorf("q%.4f: got %d, exact %d: %.2f%% off (bound 1.6%%)", q, got, want, rel*100)
				}
				if want < 128 && got != want {
					t.Errorf("q%.4f: small values are exact: got %d, want %d", q, got, want)
				}
			}
			if h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
				t.Errorf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
			}
			if h.Quantile(1) != vals[len(vals)-1] || h.Quantile(0) != vals[0] {
				t.Error("q0/q1 must be the exact extremes")
			}
		})
	}
}

func TestKnownPercentiles(t *testing.T) {
	// 1..1000 ms, one each: p50 = 500 ms, p99 = 990 ms, p99.9 = 999 ms.
	var h Histogram
	for ms := int64(1); ms <= 1000; ms++ {
		h.Record(ms * 1e6)
	}
	for q, want := range map[float64]int64{0.5: 500e6, 0.9: 900e6, 0.99: 990e6, 0.999: 999e6} {
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/64 {
			t.Errorf("q%v = %d, want %d (+1.6%%)", q, got, want)
		}
	}
	if m := h.Mean(); m != 500.5e6 {
		t.Errorf("mean %v, want 500.5e6", m)
	}
}

func TestMergeAndEmpty(t *testing.T) {
	var empty Histogram
	if empty.Quantile(0.99) != 0 || empty.Mean() != 0 || empty.Count() != 0 {
		t.Fatal("an empty histogram reports zeros")
	}
	var a, b, all Histogram
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		v := rng.Int64N(1e9)
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(&b)
	a.Merge(&empty)
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() {
		t.Fatalf("merged count/min/max differ: %d/%d/%d vs %d/%d/%d", a.Count(), a.Min(), a.Max(), all.Count(), all.Min(), all.Max())
	}
	for _, q := range []float64{0.5, 0.99, 0.999} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v: merged %d, direct %d", q, a.Quantile(q), all.Quantile(q))
		}
	}
	var neg Histogram
	neg.Record(-5)
	if neg.Max() != 0 || neg.Quantile(0.5) != 0 {
		t.Error("negative values count as 0")
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.Record(int64(i) * 7919)
	}
}
