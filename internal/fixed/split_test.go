package fixed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refProportional is the allocator as it was before issue 9: floor every share, then
// hand out the leftover units one at a time, each to the largest remainder left (ties to
// the earlier index), rescanning every remainder per unit. It is the reference the
// selection-based Proportional must agree with.
func refProportional(amount int64, weights []int64, out []int64) bool {
	if amount < 0 || len(out) != len(weights) {
		return false
	}
	sum, ok := sumOf(weights)
	if !ok {
		return false
	}
	if sum == 0 {
		return amount == 0 && zero(out)
	}
	var given int64
	rems := make([]int64, len(weights))
	for i, w := range weights {
		q, r, ok := MulDivRem(amount, w, sum)
		if !ok {
			return false
		}
		out[i] = q
		rems[i] = r
		given += q
	}
	for left := amount - given; left > 0; left-- {
		best := -1
		for i, r := range rems {
			if r > 0 && (best < 0 || r > rems[best]) {
				best = i
			}
		}
		if best < 0 {
			return false
		}
		out[best]++
		rems[best] = 0
	}
	return true
}

// refLargestFirst is largest_line_first as the engine did it before issue 9: find the
// weight with the most left (ties to the earlier index) by a scan, give it what it can
// take, and scan again.
func refLargestFirst(amount int64, weights []int64, out []int64) int64 {
	for i := range out {
		out[i] = 0
	}
	left := amount
	for left > 0 {
		best := -1
		for i := range weights {
			if weights[i]-out[i] > 0 && (best < 0 || weights[i]-out[i] > weights[best]-out[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		t := min(left, weights[best]-out[best])
		out[best] += t
		left -= t
	}
	return amount - left
}

// randomSplit draws weights and an amount up to their sum (as the engine asks) from r:
// few or many weights, small ranges full of ties, zero weights, all zero, huge weights.
func randomSplit(r *rand.Rand) (int64, []int64) {
	n := 1 + r.IntN(12)
	if r.IntN(4) == 0 {
		n = 1 + r.IntN(400)
	}
	var hi int64
	switch r.IntN(6) {
	case 0:
		hi = 3 // many ties
	case 1:
		hi = 100
	case 2:
		hi = 1_000_000
	case 3:
		hi = MaxUnits
	case 4:
		// sum·n beyond an int64: Proportional's path for remainders that do not
		// fit in one key with their index.
		n = 1 + r.IntN(6)
		hi = 1 << 60
	default:
		hi = 1 + r.Int64N(50)
	}
	w := make([]int64, n)
	var sum int64
	for i := range w {
		if r.IntN(4) != 0 { // a quarter of the weights are zero
			w[i] = r.Int64N(hi + 1)
		}
		if r.IntN(10) == 0 && i > 0 {
			w[i] = w[r.IntN(i)] // an exact tie with an earlier weight
		}
		sum += w[i]
	}
	if sum == 0 {
		return 0, w
	}
	var amount int64
	switch r.IntN(4) {
	case 0:
		amount = sum
	case 1:
		amount = 1 + r.Int64N(min(sum, int64(n)))
	default:
		amount = r.Int64N(sum + 1)
	}
	return amount, w
}

func TestProportionalMatchesReference(t *testing.T) {
	var s Splitter // one splitter for every case: its scratch carries over
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 1))
		amount, w := randomSplit(r)
		want := make([]int64, len(w))
		got := make([]int64, len(w))
		wantOK := refProportional(amount, w, want)
		gotOK := s.Proportional(amount, w, got)
		require.Equal(t, wantOK, gotOK, "seed %d: Proportional(%d, %v)", seed, amount, w)
		require.Equal(t, want, got, "seed %d: Proportional(%d, %v)", seed, amount, w)
		if wantOK {
			var total int64
			for _, x := range got {
				total += x
			}
			require.Equal(t, amount, total, "seed %d: shares add up", seed)
		}
		viaFunc := make([]int64, len(w))
		require.Equal(t, wantOK, Proportional(amount, w, viaFunc))
		require.Equal(t, want, viaFunc, "seed %d: the package function", seed)
	}
}

func TestLargestFirstMatchesReference(t *testing.T) {
	var s Splitter
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 2))
		amount, w := randomSplit(r)
		switch r.IntN(8) {
		case 0:
			amount += r.Int64N(100) // more than the weights can take
		case 1:
			// Weights too large to carry their index in one key: the other heap.
			for i := range w {
				if w[i] > 0 {
					w[i] = math.MaxInt64 - r.Int64N(3)
				}
			}
			amount = r.Int64N(math.MaxInt64)
		}
		want := make([]int64, len(w))
		got := make([]int64, len(w))
		for i := range got {
			got[i] = -7 // stale scratch: LargestFirst must overwrite every entry
		}
		wantGiven := refLargestFirst(amount, w, want)
		gotGiven, ok := s.LargestFirst(amount, w, got)
		require.True(t, ok)
		require.Equal(t, wantGiven, gotGiven, "seed %d: LargestFirst(%d, %v)", seed, amount, w)
		require.Equal(t, want, got, "seed %d: LargestFirst(%d, %v)", seed, amount, w)
	}
}

func TestLargestFirst(t *testing.T) {
	cases := []struct {
		name    string
		amount  int64
		weights []int64
		want    []int64
		given   int64
	}{
		{"largest first", 120, []int64{50, 100}, []int64{20, 100}, 120},
		{"tie goes to the earlier", 30, []int64{50, 50}, []int64{30, 0}, 30},
		{"then the next", 70, []int64{50, 50}, []int64{50, 20}, 70},
		{"zero weights take nothing", 5, []int64{0, 3, 0, 4}, []int64{0, 1, 0, 4}, 5},
		{"more than the weights", 10, []int64{3, 4}, []int64{3, 4}, 7},
		{"nothing", 0, []int64{3, 4}, []int64{0, 0}, 0},
		{"huge", math.MaxInt64, []int64{math.MaxInt64, math.MaxInt64}, []int64{math.MaxInt64, 0}, math.MaxInt64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s Splitter
			out := make([]int64, len(tc.weights))
			given, ok := s.LargestFirst(tc.amount, tc.weights, out)
			require.True(t, ok)
			assert.Equal(t, tc.want, out)
			assert.Equal(t, tc.given, given)
		})
	}
	var s Splitter
	_, ok := s.LargestFirst(1, []int64{1, -1}, make([]int64, 2))
	assert.False(t, ok, "negative weight")
	_, ok = s.LargestFirst(-1, []int64{1}, make([]int64, 1))
	assert.False(t, ok, "negative amount")
	_, ok = s.LargestFirst(1, []int64{1}, make([]int64, 2))
	assert.False(t, ok, "out of another length")
}

// TestSelectBest checks the selection on its own, with every budget down to none (the
// sorting fallback), on shapes that are hard for a quickselect: sorted either way, all
// equal (ties on the index), organ pipe, few distinct values.
func TestSelectBest(t *testing.T) {
	shapes := map[string]func(i, n int, r *rand.Rand) int64{
		"ascending":  func(i, n int, r *rand.Rand) int64 { return int64(i) },
		"descending": func(i, n int, r *rand.Rand) int64 { return int64(n - i) },
		"equal":      func(i, n int, r *rand.Rand) int64 { return 7 },
		"organ pipe": func(i, n int, r *rand.Rand) int64 { return int64(min(i, n-i)) },
		"few values": func(i, n int, r *rand.Rand) int64 { return r.Int64N(3) },
		"random":     func(i, n int, r *rand.Rand) int64 { return r.Int64N(1 << 40) },
	}
	r := rand.New(rand.NewPCG(3, 3))
	for name, shape := range shapes {
		for _, n := range []int{1, 2, 5, 13, 14, 100, 1000} {
			vals := make([]int64, n)
			for i := range vals {
				vals[i] = shape(i, n, r)
			}
			order := make([]int32, n) // every index, best first
			for i := range order {
				order[i] = int32(i)
			}
			slices.SortFunc(order, func(a, b int32) int {
				if better(vals, a, b) {
					return -1
				}
				return 1
			})
			for _, k := range []int{0, 1, n / 3, n / 2, n - 1, n} {
				for _, budget := range []int{0, 1, 3, 100} {
					idx := make([]int32, n)
					for i := range idx {
						idx[i] = int32(n - 1 - i) // reversed, so that order matters
					}
					got := slices.Clone(selectBest(vals, idx, k, budget))
					slices.Sort(got)
					want := slices.Clone(order[:k])
					slices.Sort(want)
					require.Equal(t, want, got, fmt.Sprintf("%s n=%d k=%d budget=%d", name, n, k, budget))
				}
				// selectKeys on keys that carry the index, as proportionalKeys makes them.
				for _, budget := range []int{0, 1, 3, 100} {
					keys := make([]int64, n)
					for i := range keys {
						keys[i] = vals[i]*int64(n) + int64(n-1-i)
					}
					r.Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
					got := []int32{}
					for _, key := range selectKeys(keys, k, budget) {
						got = append(got, int32(n-1-int(key%int64(n))))
					}
					slices.Sort(got)
					want := slices.Clone(order[:k])
					slices.Sort(want)
					require.Equal(t, want, got, fmt.Sprintf("selectKeys: %s n=%d k=%d budget=%d", name, n, k, budget))
				}
			}
		}
	}
}

// TestSplitterScratchSizes reuses one Splitter from small to large to small splits,
// through its inline buffers and its grown scratch.
func TestSplitterScratchSizes(t *testing.T) {
	var s Splitter
	for _, n := range []int{3, 8, 9, 500, 2, 100, 5000, 8} {
		w := make([]int64, n)
		for i := range w {
			w[i] = int64(1 + i%7)
		}
		amount := int64(n*3 + 1)
		want, got := make([]int64, n), make([]int64, n)
		require.True(t, refProportional(amount, w, want))
		require.True(t, s.Proportional(amount, w, got))
		require.Equal(t, want, got, "n=%d", n)
		wantGiven := refLargestFirst(amount, w, want)
		given, ok := s.LargestFirst(amount, w, got)
		require.True(t, ok)
		require.Equal(t, wantGiven, given)
		require.Equal(t, want, got, "n=%d", n)
	}
}

// go test -run '^$' -bench Split -benchmem ./internal/fixed

func benchWeights(n int) []int64 {
	r := rand.New(rand.NewPCG(1, 1))
	w := make([]int64, n)
	for i := range w {
		w[i] = 1 + r.Int64N(50_000)
	}
	return w
}

// One credit of 300.00 over 19,000 lines: about half the units are leftovers.
func BenchmarkSplitProportional19000(b *testing.B) {
	w := benchWeights(19_000)
	out := make([]int64, len(w))
	var s Splitter
	b.ReportAllocs()
	for b.Loop() {
		if !s.Proportional(30_000, w, out) {
			b.Fatal("refused")
		}
	}
}

// One credit paying most of 19,000 lines, largest first.
func BenchmarkSplitLargestFirst19000(b *testing.B) {
	w := benchWeights(19_000)
	var sum int64
	for _, x := range w {
		sum += x
	}
	out := make([]int64, len(w))
	var s Splitter
	b.ReportAllocs()
	for b.Loop() {
		if given, ok := s.LargestFirst(sum*9/10, w, out); !ok || given != sum*9/10 {
			b.Fatal("refused")
		}
	}
}
