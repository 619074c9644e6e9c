package fixed

import (
	"math"
	"math/bits"
	"slices"
)

// Splitter spreads amounts over weights (Proportional, LargestFirst), keeping its
// scratch space from one call to the next, so that pricing one order with many
// instruments allocates it once. The zero value is ready to use; a Splitter is not safe
// for concurrent use.
type Splitter struct {
	rems []int64
	idx  []int32
	keys []int64
	// Small splits (the common one to eight lines) use these instead.
	remBuf [8]int64
	idxBuf [8]int32
	keyBuf [8]int64
}

// scratch returns room for n remainders and up to n indices.
func (s *Splitter) scratch(n int) ([]int64, []int32) {
	if n <= len(s.remBuf) {
		return s.remBuf[:n], s.idxBuf[:0]
	}
	if cap(s.rems) < n {
		s.rems = make([]int64, n)
		s.idx = make([]int32, 0, n)
	}
	return s.rems[:n], s.idx[:0]
}

// Proportional is the package's Proportional, with s's scratch space: O(n) on average,
// O(n log n) at worst, for n weights. The leftover units go to the largest remainders
// found by one selection (a quickselect that sorts what is left if its partitions go
// badly), not by a scan per unit.
func (s *Splitter) Proportional(amount int64, weights []int64, out []int64) bool {
	if amount < 0 || len(out) != len(weights) || len(weights) > math.MaxInt32 {
		return false
	}
	sum, ok := sumOf(weights)
	if !ok {
		return false
	}
	if sum == 0 {
		return amount == 0 && zero(out)
	}
	n := int64(len(weights))
	if sum <= math.MaxInt64/n {
		return s.proportionalKeys(amount, sum, weights, out)
	}
	rems, idx := s.scratch(len(weights))
	var given int64
	for i, w := range weights {
		q, r, ok := MulDivRem(amount, w, sum)
		if !ok {
			return false
		}
		out[i] = q
		rems[i] = r
		given += q
		if r > 0 {
			idx = append(idx, int32(i))
		}
	}
	// The remainders add up to left·sum and each is below sum, so fewer than left of
	// them being positive cannot happen; the check keeps a bad input from panicking.
	left := amount - given
	if left > int64(len(idx)) {
		return false
	}
	best := topK(rems, idx, int(left))
	for _, i := range best {
		out[i]++
	}
	return true
}

// proportionalKeys is Proportional when sum·len(weights) fits in an int64 (every split
// the engine makes, short of amounts near MaxUnits): each positive remainder r of index
// i becomes the key r·n + (n−1−i), so that the largest keys are the largest remainders,
// ties to the earlier index, and the selection compares plain integers.
func (s *Splitter) proportionalKeys(amount, sum int64, weights, out []int64) bool {
	n := int64(len(weights))
	var keys []int64
	if len(weights) <= len(s.keyBuf) {
		keys = s.keyBuf[:len(weights)]
	} else {
		if cap(s.keys) < len(weights) {
			s.keys = make([]int64, 0, len(weights))
		}
		keys = s.keys[:len(weights)]
	}
	var given int64
	m := 0 // keys kept: those of positive remainders
	for i, w := range weights {
		q, r, ok := MulDivRem(amount, w, sum)
		if !ok {
			return false
		}
		out[i] = q
		given += q
		keys[m] = r*n + (n - 1 - int64(i))
		if r > 0 { // no branch: the key is written anyway and kept or not
			m++
		}
	}
	keys = keys[:m]
	left := amount - given
	if left > int64(len(keys)) {
		return false // cannot happen, as in Proportional
	}
	for _, k := range largest(keys, int(left)) {
		out[n-1-k%n]++
	}
	return true
}

// LargestFirst gives amount to the largest weight (up to the weight), then to the next
// largest, ties to the earlier index, until amount is given or every weight is full; it
// writes the shares to out (len(out) == len(weights)) and returns what it gave.
// Weights must be non-negative. O(n + k log n) for n weights of which k take a share.
func (s *Splitter) LargestFirst(amount int64, weights []int64, out []int64) (int64, bool) {
	if amount < 0 || len(out) != len(weights) || len(weights) > math.MaxInt32 {
		return 0, false
	}
	_, idx := s.scratch(len(weights))
	var room, most int64 // what the weights can take, while it is at most amount; the largest
	fits := true
	for i, w := range weights {
		if w < 0 {
			return 0, false
		}
		out[i] = 0
		if w > 0 {
			idx = append(idx, int32(i))
			most = max(most, w)
			if fits && w > amount-room {
				fits = false
			} else if fits {
				room += w
			}
		}
	}
	if fits {
		// Every weight is filled: no order to find.
		for _, i := range idx {
			out[i] = weights[i]
		}
		return room, true
	}
	if n := int64(len(weights)); most <= math.MaxInt64/n {
		return s.largestFirstKeys(amount, weights, out, idx), true
	}
	// A heap of the weights not yet taken, the best (largest, then earliest) on top.
	for i := len(idx)/2 - 1; i >= 0; i-- {
		siftDown(weights, idx, i)
	}
	left := amount
	for left > 0 {
		top := idx[0]
		t := min(left, weights[top])
		out[top] = t
		left -= t
		last := len(idx) - 1
		idx[0] = idx[last]
		idx = idx[:last]
		siftDown(weights, idx, 0)
	}
	return amount, true
}

// largestFirstKeys is LargestFirst when every weight w of index i fits in the key
// w·n + (n−1−i), n = len(weights): the largest key is the largest weight, ties to the
// earlier index, and the work compares plain integers. idx lists the positive weights;
// they can take more than amount. Most credits fill a few lines: it first keeps the
// fewBest best keys in one pass over the weights (a small heap) and sorts them; only if
// they cannot take amount does it make a heap of them all.
func (s *Splitter) largestFirstKeys(amount int64, weights, out []int64, idx []int32) int64 {
	n := int64(len(weights))
	if cap(s.keys) < len(idx) {
		s.keys = make([]int64, 0, len(weights))
	}
	if k := fewBest; k < len(idx) {
		h := s.keys[:0]
		for _, i := range idx {
			key := weights[i]*n + (n - 1 - int64(i))
			switch {
			case len(h) < k:
				h = append(h, key)
				if len(h) == k {
					for j := k/2 - 1; j >= 0; j-- {
						siftDownMin(h, j)
					}
				}
			case key > h[0]:
				h[0] = key
				siftDownMin(h, 0)
			}
		}
		slices.Sort(h)
		left := amount
		for j := len(h) - 1; j >= 0 && left > 0; j-- {
			i := n - 1 - h[j]%n
			t := min(left, weights[i])
			out[i] = t
			left -= t
		}
		if left == 0 {
			return amount
		}
		// They could not take amount, so each took all it could: the heap below
		// gives them the same again, first.
	}
	h := s.keys[:0]
	for _, i := range idx {
		h = append(h, weights[i]*n+(n-1-int64(i)))
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDownKeys(h, i)
	}
	left := amount
	for left > 0 {
		i := n - 1 - h[0]%n
		t := min(left, weights[i])
		out[i] = t
		left -= t
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		siftDownKeys(h, 0)
	}
	return amount
}

// fewBest is how many of the largest weights LargestFirst tries first.
const fewBest = 32

// siftDownMin moves h[i] down the min-heap h to its place.
func siftDownMin(h []int64, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		b := l
		if r := l + 1; r < n && h[r] < h[l] {
			b = r
		}
		if h[b] >= h[i] {
			return
		}
		h[i], h[b] = h[b], h[i]
		i = b
	}
}

// siftDownKeys moves h[i] down the max-heap h to its place.
func siftDownKeys(h []int64, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		b := l
		if r := l + 1; r < n && h[r] > h[l] {
			b = r
		}
		if h[b] <= h[i] {
			return
		}
		h[i], h[b] = h[b], h[i]
		i = b
	}
}

// better reports whether index a comes before index b when the largest value goes
// first, ties to the earlier index: a strict total order on distinct indices.
func better(vals []int64, a, b int32) bool {
	va, vb := vals[a], vals[b]
	return va > vb || va == vb && a < b
}

// siftDown moves h[i] down the heap h (ordered by better) to its place.
func siftDown(vals []int64, h []int32, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		b := l
		if r := l + 1; r < n && better(vals, h[r], h[l]) {
			b = r
		}
		if !better(vals, h[b], h[i]) {
			return
		}
		h[i], h[b] = h[b], h[i]
		i = b
	}
}

// topK reorders idx so that its first k entries are the k best indices (largest value,
// ties to the earlier index), in no particular order, and returns them. It is a
// quickselect that falls back to sorting when its partitions go badly, so O(n) on
// average and O(n log n) at worst.
func topK(vals []int64, idx []int32, k int) []int32 {
	return selectBest(vals, idx, k, 2*bits.Len(uint(len(idx))))
}

// selectBest is topK with at most budget partitions before it sorts what is left.
func selectBest(vals []int64, idx []int32, k, budget int) []int32 {
	if k <= 0 {
		return idx[:0]
	}
	if k >= len(idx) {
		return idx
	}
	lo, hi := 0, len(idx) // the boundary between the k best and the rest lies in [lo, hi)
	for ; hi-lo > 12 && budget > 0; budget-- {
		m := partition(vals, idx[lo:hi]) + lo
		switch {
		case m == k || m+1 == k:
			return idx[:k]
		case m > k:
			hi = m
		default:
			lo = m + 1
		}
	}
	slices.SortFunc(idx[lo:hi], func(a, b int32) int {
		if better(vals, a, b) {
			return -1
		}
		return 1 // indices are distinct: never equal
	})
	return idx[:k]
}

// largest reorders keys (distinct) so that its first k are the k largest, in no
// particular order, and returns them: topK on plain integers, with a partition that
// does not branch on the comparison.
func largest(keys []int64, k int) []int64 {
	return selectKeys(keys, k, 2*bits.Len(uint(len(keys))))
}

// selectKeys is largest with at most budget partitions before it sorts what is left.
func selectKeys(keys []int64, k, budget int) []int64 {
	if k <= 0 {
		return keys[:0]
	}
	if k >= len(keys) {
		return keys
	}
	lo, hi := 0, len(keys)
	for ; hi-lo > 12 && budget > 0; budget-- {
		m := partitionKeys(keys[lo:hi]) + lo
		switch {
		case m == k || m+1 == k:
			return keys[:k]
		case m > k:
			hi = m
		default:
			lo = m + 1
		}
	}
	slices.Sort(keys[lo:hi])
	slices.Reverse(keys[lo:hi])
	return keys[:k]
}

// partitionKeys picks a pivot of h (median of three), puts the keys above it first,
// then the pivot, then the rest, and returns the pivot's position. It is Lomuto's
// partition done without a branch on the comparison: every key is swapped, and the
// boundary moves by the comparison's outcome.
func partitionKeys(h []int64) int {
	last, mid := len(h)-1, len(h)/2
	if h[mid] > h[0] {
		h[mid], h[0] = h[0], h[mid]
	}
	if h[last] > h[mid] {
		h[last], h[mid] = h[mid], h[last]
		if h[mid] > h[0] {
			h[mid], h[0] = h[0], h[mid]
		}
	}
	h[mid], h[last] = h[last], h[mid]
	pivot := h[last]
	m := 0
	for i := range last {
		x := h[i]
		h[i] = h[m]
		h[m] = x
		above := 0
		if x > pivot {
			above = 1
		}
		m += above
	}
	h[m], h[last] = h[last], h[m]
	return m
}

// partition picks a pivot of h (median of three), puts the entries better than it
// first, then the pivot, then the rest, and returns the pivot's position.
func partition(vals []int64, h []int32) int {
	last, mid := len(h)-1, len(h)/2
	// Order h[0], h[mid], h[last]; the median goes to the end as the pivot.
	if better(vals, h[mid], h[0]) {
		h[mid], h[0] = h[0], h[mid]
	}
	if better(vals, h[last], h[mid]) {
		h[last], h[mid] = h[mid], h[last]
		if better(vals, h[mid], h[0]) {
			h[mid], h[0] = h[0], h[mid]
		}
	}
	h[mid], h[last] = h[last], h[mid]
	pivot := h[last]
	m := 0
	for i := range last {
		if better(vals, h[i], pivot) {
			h[i], h[m] = h[m], h[i]
			m++
		}
	}
	h[m], h[last] = h[last], h[m]
	return m
}

// sumOf adds up non-negative weights; false if one is negative or the sum overflows.
func sumOf(weights []int64) (int64, bool) {
	var sum int64
	for _, w := range weights {
		if w < 0 {
			return 0, false
		}
		s, carry := bits.Add64(uint64(sum), uint64(w), 0)
		if carry != 0 || s > uint64(1<<63-1) {
			return 0, false
		}
		sum = int64(s)
	}
	return sum, true
}
