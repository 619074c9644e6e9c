package rules

import (
	"cmp"
	"slices"
)

// spendDesc spreads take over c's in-scope lines that it reaches by AWS's "largest
// service charge first": on a bill, the instrument's owner's charges first, then the
// account with the most still payable (ties: its first charge earlier in the bill);
// within an account, the product with the most still payable, within it the SKU,
// within it the line with the largest amount still payable (ties: the one whose first
// line comes earlier, see spendKeys); the line takes as much as is left, up to what it
// owes, and the choice is made again from the top. It returns the lines it gave to, in
// line order, what each got, and what it gave in all.
//
// An account's lines are gathered and sorted only when the instrument first reaches
// them, and on a bill an account's total comes from the per-product sums: an
// instrument costs what the accounts it pays cost, not a pass over the whole bill.
func (p *pricing) spendDesc(c *cand, take int64) ([]int32, []int64, int64) {
	sd := newSpend(p, c)
	owner := int32(0)
	if p.bill != nil {
		owner = p.bill.acctIdx[p.insts[c.idx].Account]
	}
	defer sd.release()
	if a := sd.account(owner); a >= 0 {
		// Most instruments are paid out by the first line they reach: found by a pass
		// over the account's lines, without building its heaps.
		if li := sd.firstLine(a); take <= p.payable[li] {
			return []int32{li}, []int64{take}, take
		}
	}
	left := take
	for left > 0 {
		a := sd.account(owner)
		if a < 0 {
			break
		}
		acct := sd.open(a)
		j := acct.next()
		t := min(left, sd.left[j])
		sd.share[j] += t
		left -= t
		sd.paid(a, acct, j, t)
	}
	return sd.given(), sd.share, take - left
}

// spendKeys are what spend_desc groups lines by, fixed for the whole quote: each
// line's SKU group (one per account, product and sku; a line without a sku is a group
// of its own), each SKU group's first line, and, per line, the first line of its
// account's lines of its product. Ties between groups go to the earlier first line, a
// line of the order (or bill) whether or not something is still payable on it, so
// that one instrument or two instruments of the same total end alike.
type spendKeys struct {
	sku       []int32
	skuFirst  []int32
	prodFirst []int32
}

// lineAcct is the account of line li: on an order, 0.
func (p *pricing) lineAcct(li int) int32 {
	if p.bill != nil {
		return p.bill.lineAcct[li]
	}
	return 0
}

// nAccounts is how many accounts spendDesc tells apart: on an order, one.
func (p *pricing) nAccounts() int {
	if p.bill != nil {
		return len(p.bill.accts)
	}
	return 1
}

// spendKeys returns the quote's spend keys, computing them the first time.
func (p *pricing) spendKeys() *spendKeys {
	if p.sk != nil {
		return p.sk
	}
	n := len(p.o.Lines)
	sk := &spendKeys{sku: make([]int32, n), prodFirst: make([]int32, n)}
	// Each line's SKU as a small number (0: none), then each (account, product, SKU)
	// as one number, which a table (or, when that would be large, a map) turns into
	// its group.
	skuNum := map[string]int32{"": 0}
	for li := range p.o.Lines {
		s := p.o.Lines[li].SKU
		k, ok := skuNum[s]
		if !ok {
			k = int32(len(skuNum))
			skuNum[s] = k
		}
		sk.sku[li] = k
	}
	ns, np := int64(len(skuNum)), int64(len(p.prods))
	var table []int32
	var ids map[int64]int32
	if size := int64(p.nAccounts()) * np * ns; size <= 4*int64(n)+64 {
		table = make([]int32, size)
	} else {
		ids = map[int64]int32{}
	}
	group := func(li int) int32 { // a new group, whose first line is li
		sk.skuFirst = append(sk.skuFirst, int32(li))
		return int32(len(sk.skuFirst) - 1)
	}
	for li := range p.o.Lines {
		s := int64(sk.sku[li])
		key := (int64(p.lineAcct(li))*np+int64(p.lineProd[li]))*ns + s
		switch {
		case s == 0: // no SKU: a group of its own
			sk.sku[li] = group(li)
		case table != nil: // table holds group + 1, 0 for none yet
			if table[key] == 0 {
				table[key] = group(li) + 1
			}
			sk.sku[li] = table[key] - 1
		default:
			g, ok := ids[key]
			if !ok {
				g = group(li)
				ids[key] = g
			}
			sk.sku[li] = g
		}
	}
	// Each product's lines in line order: the first of each account's is its first.
	seen := make([]int32, p.nAccounts()) // product k+1 once the account is seen in k
	first := make([]int32, p.nAccounts())
	for k := range p.prods {
		for _, li := range p.linesOf(int32(k)) {
			a := p.lineAcct(int(li))
			if seen[a] != int32(k)+1 {
				seen[a], first[a] = int32(k)+1, li
			}
			sk.prodFirst[li] = first[a]
		}
	}
	p.sk = sk
	return sk
}

// spend is the state of one spendDesc. Positions index the lines of the accounts
// opened so far, in the order they were opened: idx is each one's line, left what is
// still payable on it, share what it got, skuOf its SKU group within its account.
type spend struct {
	p   *pricing
	c   *cand
	sk  *spendKeys
	idx []int32
	// left, share: per position.
	left, share []int64
	skuOf       []int32
	// lines returns account a's lines the instrument reaches in its scope that still
	// owe something, in line order; sum what they owe in all; reached the accounts
	// other than the owner that it may reach.
	lines   func(a int32) []int32
	sum     func(a int32) int64
	reached func(yield func(int32) bool)
	accts   maxHeap // accounts other than the owner, by what is left
	keys    heapItems
	opened  []*spendAccount // per account; nil until opened (the quote's, see release)
	// openedList: the accounts opened, in the order they were.
	openedList []int32
	heap       bool // accts has been built
	// prodGroup is scratch for open: each product's group in the account opened, -1.
	prodGroup []int32
}

func newSpend(p *pricing, c *cand) *spend {
	if p.spendOpened == nil {
		p.spendOpened = make([]*spendAccount, p.nAccounts())
	}
	sd := &spend{p: p, c: c, sk: p.spendKeys(), opened: p.spendOpened}
	if p.bill != nil && c.rch.eff == nil {
		p.bill.spendSource(p, c, sd)
		return sd
	}
	// An order, or an instrument that became effective during the period: its lines,
	// gathered once, by account.
	idx, w := p.scopeLines(c)
	na := p.nAccounts()
	start := make([]int32, na+1)
	for _, li := range idx {
		start[p.lineAcct(int(li))+1]++
	}
	for a := range na {
		start[a+1] += start[a]
	}
	byAcc := make([]int32, len(idx))
	sums := make([]int64, na)
	next := slices.Clone(start[:na])
	for j, li := range idx {
		a := p.lineAcct(int(li))
		byAcc[next[a]] = li
		next[a]++
		sums[a] += w[j]
	}
	sd.lines = func(a int32) []int32 { return byAcc[start[a]:start[a+1]] }
	sd.sum = func(a int32) int64 { return sums[a] }
	sd.reached = func(yield func(int32) bool) {
		for a := range int32(na) {
			if start[a+1] > start[a] && !yield(a) {
				return
			}
		}
	}
	return sd
}

// given returns the positions that got something as lines, in line order, with their
// shares in sd.share (which it reorders to match).
func (sd *spend) given() []int32 {
	n := 0
	for j, s := range sd.share {
		if s != 0 {
			sd.idx[n], sd.share[n] = sd.idx[j], s
			n++
		}
	}
	idx, share := sd.idx[:n], sd.share[:n]
	sort := make([]int32, n)
	for k := range sort {
		sort[k] = int32(k)
	}
	slices.SortFunc(sort, func(x, y int32) int { return cmp.Compare(idx[x], idx[y]) })
	outIdx, outShare := make([]int32, n), make([]int64, n)
	for k, j := range sort {
		outIdx[k], outShare[k] = idx[j], share[j]
	}
	sd.share = outShare
	return outIdx
}

// account returns the account to pay next: the owner while it has something left,
// else the account with the most left; -1 when nothing is left.
func (sd *spend) account(owner int32) int32 {
	if acct := sd.opened[owner]; acct != nil && acct.sum > 0 || acct == nil && sd.sum(owner) > 0 {
		return owner
	}
	if !sd.heap {
		sd.heap = true
		sd.keys = newHeapItems(len(sd.opened))
		sd.accts = maxHeap{it: &sd.keys}
		for a := range sd.reached {
			if a == owner {
				continue
			}
			if sum := sd.sum(a); sum > 0 {
				first := int32(len(sd.p.o.Lines))
				if sd.p.bill != nil {
					first = sd.p.bill.acctFirst[a]
				}
				sd.accts.push(a, sum, first)
			}
		}
	}
	for {
		a, ok := sd.accts.top()
		if !ok {
			return -1
		}
		if sd.keys.key[a] > 0 {
			return a
		}
		sd.accts.remove(a)
	}
}

// open returns account a's lines as products and SKUs, gathering them the first time.
func (sd *spend) open(a int32) *spendAccount {
	if acct := sd.opened[a]; acct != nil {
		return acct
	}
	from, lines := len(sd.idx), sd.lines(a)
	sd.idx = append(slices.Grow(sd.idx, len(lines)), lines...)
	sd.left, sd.share = slices.Grow(sd.left, len(lines)), slices.Grow(sd.share, len(lines))
	sd.skuOf = slices.Grow(sd.skuOf, len(lines))
	for _, li := range lines {
		sd.left = append(sd.left, sd.p.payable[li])
		sd.share = append(sd.share, 0)
		sd.skuOf = append(sd.skuOf, 0)
	}
	acct := newSpendAccount(sd, int32(from), int32(len(sd.idx)))
	sd.opened[a] = acct
	sd.openedList = append(sd.openedList, a)
	return acct
}

// firstLine is the line account a pays first (as open and next would find it), by
// passes over its lines: what each product and SKU group has left, the product with
// the most, its SKU group with the most, and in it the line with the most.
func (sd *spend) firstLine(a int32) int32 {
	p, sk := sd.p, sd.sk
	lines := sd.lines(a)
	if p.prodLeft == nil {
		p.prodLeft, p.skuLeft = make([]int64, len(p.prods)), make([]int64, len(sk.skuFirst))
	}
	for _, li := range lines {
		p.prodLeft[p.lineProd[li]] += p.payable[li]
		p.skuLeft[sk.sku[li]] += p.payable[li]
	}
	best := lines[0]
	for _, li := range lines[1:] {
		k, b := p.lineProd[li], p.lineProd[best]
		if p.prodLeft[k] > p.prodLeft[b] || p.prodLeft[k] == p.prodLeft[b] && sk.prodFirst[li] < sk.prodFirst[best] {
			best = li
		}
	}
	k := p.lineProd[best]
	for _, li := range lines {
		if p.lineProd[li] != k {
			continue
		}
		g, b := sk.sku[li], sk.sku[best]
		switch {
		case g == b:
			if p.payable[li] > p.payable[best] || p.payable[li] == p.payable[best] && li < best {
				best = li
			}
		case p.skuLeft[g] > p.skuLeft[b] || p.skuLeft[g] == p.skuLeft[b] && sk.skuFirst[g] < sk.skuFirst[b]:
			best = li
		}
	}
	for _, li := range lines {
		p.prodLeft[p.lineProd[li]], p.skuLeft[sk.sku[li]] = 0, 0
	}
	return best
}

// release clears the accounts opened, so that the next spendDesc of the quote can use
// opened again: one slice per quote, not one per instrument.
func (sd *spend) release() {
	for _, a := range sd.openedList {
		sd.opened[a] = nil
	}
}

// paid records that position j of account a took t.
func (sd *spend) paid(a int32, acct *spendAccount, j int32, t int64) {
	sd.left[j] -= t
	acct.paid(j, t)
	if sd.heap && sd.accts.has(a) {
		sd.accts.set(a, sd.keys.key[a]-t)
	}
}

// spendAccount is one account's lines, grouped by SKU group; each group's positions
// are a heap by amount left (largest first), then line, so that the SKU's next line
// is the first of its range. Grouping is linear and a heap is built in linear time, so
// an instrument that pays a few lines of a large account costs what reading them
// costs, not a sort. Its SKU groups are numbered densely from 0, and so are its
// product groups.
type spendAccount struct {
	sd    *spend
	js    []int32 // positions, grouped
	sum   int64   // left on the account
	prods maxHeap // product groups, by what is left
	skus  []maxHeap
	// Per SKU group: its range of js (a heap), from skuCur to skuEnd; its product group.
	skuEnd, skuCur, skuProd []int32
	prodKeys, skuKeys       heapItems
}

func newSpendAccount(sd *spend, from, to int32) *spendAccount {
	p := sd.p
	acct := &spendAccount{sd: sd}
	acct.js = acct.group(from, to)
	if sd.prodGroup == nil {
		sd.prodGroup = make([]int32, len(p.prods))
		for k := range sd.prodGroup {
			sd.prodGroup[k] = -1
		}
	}
	nSKU := len(acct.skuEnd)
	var prodList []int32 // each product group's product
	var prodSum []int64
	skuSum := make([]int64, nSKU)
	acct.skuProd = make([]int32, nSKU)
	for g := range nSKU {
		rng := acct.js[acct.skuCur[g]:acct.skuEnd[g]]
		acct.heapify(rng)
		for _, j := range rng {
			skuSum[g] += sd.left[j]
		}
		k := p.lineProd[sd.idx[rng[0]]]
		pg := sd.prodGroup[k]
		if pg < 0 {
			pg = int32(len(prodList))
			sd.prodGroup[k] = pg
			prodList = append(prodList, k)
			prodSum = append(prodSum, 0)
		}
		prodSum[pg] += skuSum[g]
		acct.skuProd[g] = pg
		acct.sum += skuSum[g]
	}
	nProd := len(prodList)
	acct.skuKeys, acct.prodKeys = newHeapItems(nSKU), newHeapItems(nProd)
	acct.prods = maxHeap{it: &acct.prodKeys}
	acct.skus = make([]maxHeap, nProd)
	for pg := range acct.skus {
		acct.skus[pg] = maxHeap{it: &acct.skuKeys}
	}
	for g := range int32(nSKU) {
		li := sd.idx[acct.js[acct.skuCur[g]]]
		acct.skus[acct.skuProd[g]].add(g, skuSum[g], sd.sk.skuFirst[sd.sk.sku[li]])
	}
	for pg := range acct.skus {
		acct.skus[pg].build()
	}
	for pg, k := range prodList {
		sd.prodGroup[k] = -1
		li := sd.idx[acct.js[acct.skuCur[acct.skus[pg].h[0]]]]
		acct.prods.push(int32(pg), prodSum[pg], sd.sk.prodFirst[li])
	}
	return acct
}

// group returns positions from to to grouped by SKU group (numbered in order of first
// appearance), each group in line order, and sets each group's range and each
// position's group (skuOf).
func (acct *spendAccount) group(from, to int32) []int32 {
	sd := acct.sd
	sk := sd.sk
	if sd.p.skuLocal == nil {
		sd.p.skuLocal = make([]int32, len(sk.skuFirst))
		for i := range sd.p.skuLocal {
			sd.p.skuLocal[i] = -1
		}
	}
	local := sd.p.skuLocal // the quote's SKU group -> this account's; -1 between uses
	var count []int32
	for j := from; j < to; j++ {
		g := sk.sku[sd.idx[j]]
		if local[g] < 0 {
			local[g] = int32(len(count))
			count = append(count, 0)
		}
		count[local[g]]++
		sd.skuOf[j] = local[g]
	}
	acct.skuCur, acct.skuEnd = make([]int32, len(count)), make([]int32, len(count))
	var at int32
	for g, c := range count {
		acct.skuCur[g] = at
		at += c
		acct.skuEnd[g] = at
	}
	next := count[:0]
	next = append(next, acct.skuCur...)
	out := make([]int32, to-from)
	for j := from; j < to; j++ {
		g := sd.skuOf[j]
		out[next[g]] = j
		next[g]++
		local[sk.sku[sd.idx[j]]] = -1
	}
	return out
}

// before reports whether position x is paid before position y of the same SKU group:
// more left, then the earlier line.
func (acct *spendAccount) before(x, y int32) bool {
	left, idx := acct.sd.left, acct.sd.idx
	if left[x] != left[y] {
		return left[x] > left[y]
	}
	return idx[x] < idx[y]
}

func (acct *spendAccount) heapify(h []int32) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		acct.siftDown(h, i)
	}
}

func (acct *spendAccount) siftDown(h []int32, i int) {
	for {
		l, best := 2*i+1, i
		if l < len(h) && acct.before(h[l], h[best]) {
			best = l
		}
		if r := l + 1; r < len(h) && acct.before(h[r], h[best]) {
			best = r
		}
		if best == i {
			return
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
}

// next is the position to pay next: the top product's top SKU's next line.
func (acct *spendAccount) next() int32 {
	pg, _ := acct.prods.top()
	g, _ := acct.skus[pg].top()
	return acct.js[acct.skuCur[g]]
}

// paid records that position j, its SKU group's next, took t: the SKU, the product and
// the account have that much less left; a line paid in full leaves its group's heap.
func (acct *spendAccount) paid(j int32, t int64) {
	g := acct.sd.skuOf[j]
	pg := acct.skuProd[g]
	acct.sum -= t
	acct.skus[pg].set(g, acct.skuKeys.key[g]-t)
	start, end := acct.skuCur[g], acct.skuEnd[g]
	if acct.sd.left[j] == 0 {
		end--
		acct.js[start] = acct.js[end]
		acct.skuEnd[g] = end
		if start == end {
			acct.skus[pg].remove(g)
		}
	}
	acct.siftDown(acct.js[start:end], 0) // the top has less left, or is another
	acct.prods.set(pg, acct.prodKeys.key[pg]-t)
	if len(acct.skus[pg].h) == 0 {
		acct.prods.remove(pg)
	}
}

// heapItems are the keys of the items of one or more heaps, by dense item id: its key
// (largest first), its tie (smallest first) and its place in its heap (-1: in none).
type heapItems struct {
	key []int64
	tie []int32
	pos []int32
}

func newHeapItems(n int) heapItems {
	it := heapItems{key: make([]int64, n), tie: make([]int32, n), pos: make([]int32, n)}
	for i := range it.pos {
		it.pos[i] = -1
	}
	return it
}

// maxHeap is an indexed max-heap of items, by key (largest first), then tie (smallest
// first); the items' keys are in it.
type maxHeap struct {
	h  []int32
	it *heapItems
}

func (m *maxHeap) has(id int32) bool { return m.it.pos[id] >= 0 }
func (m *maxHeap) top() (int32, bool) {
	if len(m.h) == 0 {
		return 0, false
	}
	return m.h[0], true
}

func (m *maxHeap) less(i, j int) bool {
	a, b := m.h[i], m.h[j]
	if ka, kb := m.it.key[a], m.it.key[b]; ka != kb {
		return ka > kb
	}
	return m.it.tie[a] < m.it.tie[b]
}

func (m *maxHeap) swap(i, j int) {
	m.h[i], m.h[j] = m.h[j], m.h[i]
	m.it.pos[m.h[i]], m.it.pos[m.h[j]] = int32(i), int32(j)
}

func (m *maxHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !m.less(i, parent) {
			return
		}
		m.swap(i, parent)
		i = parent
	}
}

func (m *maxHeap) down(i int) {
	for {
		l, best := 2*i+1, i
		if l < len(m.h) && m.less(l, best) {
			best = l
		}
		if r := l + 1; r < len(m.h) && m.less(r, best) {
			best = r
		}
		if best == i {
			return
		}
		m.swap(i, best)
		i = best
	}
}

// add puts id in the heap without ordering it: build orders what add put in, in
// linear time, before the heap is used.
func (m *maxHeap) add(id int32, key int64, tie int32) {
	m.it.key[id], m.it.tie[id] = key, tie
	m.h = append(m.h, id)
	m.it.pos[id] = int32(len(m.h) - 1)
}

func (m *maxHeap) build() {
	for i := len(m.h)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
}

func (m *maxHeap) push(id int32, key int64, tie int32) {
	m.it.key[id], m.it.tie[id] = key, tie
	m.h = append(m.h, id)
	m.it.pos[id] = int32(len(m.h) - 1)
	m.up(len(m.h) - 1)
}

// set changes id's key and restores the heap.
func (m *maxHeap) set(id int32, key int64) {
	m.it.key[id] = key
	if i := m.it.pos[id]; i >= 0 {
		m.up(int(i))
		m.down(int(m.it.pos[id]))
	}
}

func (m *maxHeap) remove(id int32) {
	i := int(m.it.pos[id])
	if i < 0 {
		return
	}
	last := len(m.h) - 1
	m.swap(i, last)
	m.h = m.h[:last]
	m.it.pos[id] = -1
	if i < last {
		m.up(i)
		m.down(int(m.it.pos[m.h[i]]))
	}
}
