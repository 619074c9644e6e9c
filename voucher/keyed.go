package voucher

import "iter"

// inlineKeys is how many entries a keyed holds in place.
const inlineKeys = 4

// keyed is a map from string keys to values for what one step holds: its first
// entries in place, found by comparing keys in order (a step holds an account or two
// and a few instruments, for which a map costs more than the search), the rest in a
// map (a sweep, a bill of many accounts). Entries are never deleted. The zero keyed is
// empty.
type keyed[V any] struct {
	n    int // entries in keys and vals
	keys [inlineKeys]string
	vals [inlineKeys]V
	more map[string]V // entries after the first inlineKeys
}

// get returns the value of key, and whether it has one.
func (k *keyed[V]) get(key string) (V, bool) {
	for i := range k.n {
		if k.keys[i] == key {
			return k.vals[i], true
		}
	}
	v, ok := k.more[key]
	return v, ok
}

// has reports whether key has a value.
func (k *keyed[V]) has(key string) bool {
	_, ok := k.get(key)
	return ok
}

// set gives key the value v.
func (k *keyed[V]) set(key string, v V) {
	for i := range k.n {
		if k.keys[i] == key {
			k.vals[i] = v
			return
		}
	}
	if k.n < inlineKeys {
		k.keys[k.n], k.vals[k.n] = key, v
		k.n++
		return
	}
	if k.more == nil {
		k.more = make(map[string]V)
	}
	k.more[key] = v
}

// len is the number of entries.
func (k *keyed[V]) len() int { return k.n + len(k.more) }

// all yields every entry: those in place in the order they were set, then the rest
// in no order.
func (k *keyed[V]) all() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for i := range k.n {
			if !yield(k.keys[i], k.vals[i]) {
				return
			}
		}
		for key, v := range k.more {
			if !yield(key, v) {
				return
			}
		}
	}
}
