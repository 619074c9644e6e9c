package voucher

import (
	"maps"
	"strconv"
	"testing"
)

// keyed behaves as a map, in place and beyond: every key set has its latest value,
// no other key has one, and all yields each entry once, those in place first in the
// order they were set.
func TestKeyedIsAMap(t *testing.T) {
	for _, n := range []int{0, 1, inlineKeys - 1, inlineKeys, inlineKeys + 1, 3 * inlineKeys} {
		var k keyed[int]
		want := map[string]int{}
		for i := range n {
			key := "k" + strconv.Itoa(i)
			k.set(key, i)
			want[key] = i
		}
		for i := 0; i < n; i += 2 { // overwrite, in place and in the map
			key := "k" + strconv.Itoa(i)
			k.set(key, -i)
			want[key] = -i
		}
		if k.len() != len(want) {
			t.Fatalf("n=%d: len %d, want %d", n, k.len(), len(want))
		}
		for key, v := range want {
			if got, ok := k.get(key); !ok || got != v {
				t.Fatalf("n=%d: get(%q) = %d, %v; want %d", n, key, got, ok, v)
			}
		}
		if k.has("absent") {
			t.Fatalf("n=%d: has(absent)", n)
		}
		got := map[string]int{}
		var order []string
		for key, v := range k.all() {
			if _, dup := got[key]; dup {
				t.Fatalf("n=%d: all yields %q twice", n, key)
			}
			got[key] = v
			order = append(order, key)
		}
		if !maps.Equal(got, want) {
			t.Fatalf("n=%d: all yields %v, want %v", n, got, want)
		}
		for i := 0; i < min(n, inlineKeys); i++ {
			if order[i] != "k"+strconv.Itoa(i) {
				t.Fatalf("n=%d: all yields %v, the first %d not in the order set", n, order, inlineKeys)
			}
		}
	}
}
