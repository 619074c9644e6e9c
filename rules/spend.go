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
	type key struct {
		a, k int32
		s    string
	}
	ids := map[key]int32{}
	for li := range p.o.Lines {
		s := p.o.Lines[li].SKU
		kk := key{p.lineAcct(li), p.lineProd[li], s}
		id, ok := ids[kk]
		if !ok || s == "" {
			id = int32(len(sk.skuFirst))
			sk.skuFirst = append(sk.skuFirst, int32(li))
			if s != "" {
				ids[kk] = id
			}
		}
		sk.sku[li] = id
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
	opened  []*spendAccount // per account; nil until opened
	heap    bool            // accts has been built
	// prodGroup is scratch for open: each product's group in the account opened, -1.
	prodGroup []int32
}

func newSpend(p *pricing, c *cand) *spend {
	sd := &spend{p: p, c: c, sk: p.spendKeys(), opened: make([]*spendAccount, p.nAccounts())}
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
	from := len(sd.idx)
	for _, li := range sd.lines(a) {
		sd.idx = append(sd.idx, li)
		sd.left = append(sd.left, sd.p.payable[li])
		sd.share = append(sd.share, 0)
		sd.skuOf = append(sd.skuOf, 0)
	}
	js := make([]int32, len(sd.idx)-from)
	for k := range js {
		js[k] = int32(from + k)
	}
	acct := newSpendAccount(sd, js)
	sd.opened[a] = acct
	return acct
}

// paid records that position j of account a took t.
func (sd *spend) paid(a int32, acct *spendAccount, j int32, t int64) {
	sd.left[j] -= t
	acct.paid(j, t)
	if sd.heap && sd.accts.has(a) {
		sd.accts.set(a, sd.keys.key[a]-t)
	}
}

// spendAccount is one account's lines: sorted by SKU group, then amount left (largest
// first) and line, so that each SKU's next line is the one at its cursor. Its SKU
// groups are numbered densely from 0, and so are its product groups.
type spendAccount struct {
	sd    *spend
	js    []int32 // positions, sorted
	sum   int64   // left on the account
	prods maxHeap // product groups, by what is left
	skus  []maxHeap
	// Per SKU group: the end of its range of js, its cursor, its product group.
	skuEnd, skuCur, skuProd []int32
	prodKeys, skuKeys       heapItems
}

func newSpendAccount(sd *spend, js []int32) *spendAccount {
	p, sk := sd.p, sd.sk
	slices.SortFunc(js, func(x, y int32) int {
		if c := cmp.Compare(sk.sku[sd.idx[x]], sk.sku[sd.idx[y]]); c != 0 {
			return c
		}
		if c := cmp.Compare(sd.left[y], sd.left[x]); c != 0 {
			return c
		}
		return cmp.Compare(sd.idx[x], sd.idx[y])
	})
	if sd.prodGroup == nil {
		sd.prodGroup = make([]int32, len(p.prods))
		for k := range sd.prodGroup {
			sd.prodGroup[k] = -1
		}
	}
	acct := &spendAccount{sd: sd, js: js}
	var prodList []int32 // each product group's product
	var prodSum []int64
	for start := 0; start < len(js); {
		li := sd.idx[js[start]]
		sku := sk.sku[li]
		end := start
		var sum int64
		for end < len(js) && sk.sku[sd.idx[js[end]]] == sku {
			sd.skuOf[js[end]] = int32(len(acct.skuEnd))
			sum += sd.left[js[end]]
			end++
		}
		k := p.lineProd[li]
		pg := sd.prodGroup[k]
		if pg < 0 {
			pg = int32(len(prodList))
			sd.prodGroup[k] = pg
			prodList = append(prodList, k)
			prodSum = append(prodSum, 0)
		}
		prodSum[pg] += sum
		acct.skuEnd = append(acct.skuEnd, int32(end))
		acct.skuCur = append(acct.skuCur, int32(start))
		acct.skuProd = append(acct.skuProd, pg)
		acct.sum += sum
		start = end
	}
	nSKU, nProd := len(acct.skuEnd), len(prodList)
	acct.skuKeys, acct.prodKeys = newHeapItems(nSKU), newHeapItems(nProd)
	acct.prods = maxHeap{it: &acct.prodKeys}
	acct.skus = make([]maxHeap, nProd)
	for pg := range acct.skus {
		acct.skus[pg] = maxHeap{it: &acct.skuKeys}
	}
	for g := range int32(nSKU) {
		li := sd.idx[js[acct.skuCur[g]]]
		end := acct.skuEnd[g]
		start := acct.skuCur[g]
		var sum int64
		for _, j := range js[start:end] {
			sum += sd.left[j]
		}
		acct.skus[acct.skuProd[g]].push(g, sum, sk.skuFirst[sk.sku[li]])
	}
	for pg, k := range prodList {
		sd.prodGroup[k] = -1
		li := sd.idx[js[acct.skuCur[acct.skus[pg].h[0]]]]
		acct.prods.push(int32(pg), prodSum[pg], sk.prodFirst[li])
	}
	return acct
}

// next is the position to pay next: the top product's top SKU's next line.
func (acct *spendAccount) next() int32 {
	pg, _ := acct.prods.top()
	g, _ := acct.skus[pg].top()
	return acct.js[acct.skuCur[g]]
}

// paid records that position j took t: the SKU, the product and the account have that
// much less left; a line paid in full is done.
func (acct *spendAccount) paid(j int32, t int64) {
	g := acct.sd.skuOf[j]
	pg := acct.skuProd[g]
	acct.sum -= t
	acct.skus[pg].set(g, acct.skuKeys.key[g]-t)
	if acct.sd.left[j] == 0 {
		acct.skuCur[g]++
		if acct.skuCur[g] == acct.skuEnd[g] {
			acct.skus[pg].remove(g)
		}
	}
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
