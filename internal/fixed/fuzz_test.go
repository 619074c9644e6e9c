package fixed

// The allocator's fuzz target (it was voucher's FuzzAllocate while the allocator was
// voucher.Allocate):
//
//	go test -run '^$' -fuzz '^FuzzProportional$' -fuzztime 5m -parallel 1 ./internal/fixed

import (
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// proportionalRef is the reference allocation, in exact rationals: each share rounded
// down to the unit, the leftover units one each to the largest remainders, ties to the
// earlier index.
func proportionalRef(amount int64, ws []int64) []int64 {
	sum := new(big.Int)
	for _, w := range ws {
		sum.Add(sum, big.NewInt(w))
	}
	out := make([]int64, len(ws))
	rems := make([]*big.Int, len(ws))
	given := int64(0)
	for i, w := range ws {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(amount), big.NewInt(w)), sum, new(big.Int))
		out[i] = q.Int64()
		rems[i] = r
		given += out[i]
	}
	order := make([]int, len(ws))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rems[b].Cmp(rems[a]) })
	for k := int64(0); k < amount-given; k++ {
		out[order[k]]++
	}
	return out
}

// FuzzProportional: Proportional never panics; it refuses (false) exactly a negative
// amount, a negative weight, weights whose sum overflows, and weights summing to zero
// with something to allocate; otherwise the shares add up to the amount exactly, none
// is negative, a zero weight gets nothing, the same input gives the same split, and
// the split is the exact reference one: rounded down, leftover units by largest
// remainder, ties to the earlier index.
func FuzzProportional(f *testing.F) {
	for _, s := range []struct {
		amount  int64
		weights string
	}{{2, "100,300"}, {1, "1,1,1"}, {5, "1,1,1,1,1,1"}, {10000, "0,0"}, {0, "0,0"}, {1, ""}, {-1, "1"},
		{1, "-1,2"}, {99999999999, "1,2,3"}, {7, "3333,3333,3334"}, {math.MaxInt64, "1,1"},
		{1, "9223372036854775807,1"}, {1000000000000000, "1000000000000000,1"}, {3, "0,5,0,5"}} {
		f.Add(s.amount, s.weights)
	}
	f.Fuzz(func(t *testing.T, amount int64, weights string) {
		var ws []int64
		if weights != "" {
			for _, w := range strings.Split(weights, ",") {
				v, err := strconv.ParseInt(strings.TrimSpace(w), 10, 64)
				if err != nil {
					return
				}
				ws = append(ws, v)
			}
		}
		if len(ws) > 256 {
			return
		}
		// What Proportional must refuse.
		var bad []string
		if amount < 0 {
			bad = append(bad, "negative amount")
		}
		sum := new(big.Int)
		for i, w := range ws {
			if w < 0 {
				bad = append(bad, "weight "+strconv.Itoa(i)+" negative")
			}
			sum.Add(sum, big.NewInt(w))
		}
		if !sum.IsInt64() {
			bad = append(bad, "weights overflow")
		}
		if sum.Sign() == 0 && amount != 0 {
			bad = append(bad, "weights sum to zero")
		}
		out := make([]int64, len(ws))
		if !Proportional(amount, ws, out) {
			if len(bad) == 0 {
				t.Fatalf("Proportional(%d, %v) refused good input", amount, ws)
			}
			return
		}
		if len(bad) > 0 {
			t.Fatalf("Proportional(%d, %v) accepted bad input (%s): %v", amount, ws, strings.Join(bad, "; "), out)
		}
		again := make([]int64, len(ws))
		if !Proportional(amount, slices.Clone(ws), again) || !slices.Equal(out, again) {
			t.Fatalf("not deterministic: %v, then %v", out, again)
		}
		total := new(big.Int)
		for i, o := range out {
			if o < 0 {
				t.Fatalf("share %d is negative: %d", i, o)
			}
			if ws[i] == 0 && o != 0 {
				t.Fatalf("share %d of a zero weight is %d", i, o)
			}
			total.Add(total, big.NewInt(o))
		}
		if total.Cmp(big.NewInt(amount)) != 0 {
			t.Fatalf("shares %v add up to %s, not %d", out, total, amount)
		}
		if sum.Sign() == 0 {
			return // zero over zero weights: all zero, checked above
		}
		if want := proportionalRef(amount, ws); !slices.Equal(out, want) {
			t.Fatalf("Proportional(%d, %v) = %v, the reference gives %v", amount, ws, out, want)
		}
	})
}
