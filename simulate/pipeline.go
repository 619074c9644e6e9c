package simulate

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/voucherkit/voucherkit/voucher"
)

// batchSize is how many items the reader hands over at once.
const batchSize = 512

// batch is items read ahead, and the error that ended the stream after them (nil: more
// may follow, or io.EOF was reached).
type batch struct {
	items []Item
	err   error
}

// readAhead reads the stream in a goroutine of its own, a few batches ahead of the
// wallets; stop ends it early.
func readAhead(ctx context.Context, first Item, src Source) (<-chan batch, func()) {
	ctx, stop := context.WithCancel(ctx)
	ch := make(chan batch, 4)
	go func() {
		defer close(ch)
		b := batch{items: append(make([]Item, 0, batchSize), first)}
		for {
			it, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.err = err
				break
			}
			b.items = append(b.items, it)
			if len(b.items) == batchSize {
				select {
				case ch <- b:
				case <-ctx.Done():
					return
				}
				b = batch{items: make([]Item, 0, batchSize)}
			}
		}
		select {
		case ch <- b:
		case <-ctx.Done():
		}
	}()
	return ch, stop
}

// worker runs one rule set's wallet over segments of items in a goroutine of its own.
type worker struct {
	r    *runner
	in   chan []Item
	wg   *sync.WaitGroup
	cash []*voucher.Money
	err  error
}

func (w *worker) loop(ctx context.Context) {
	for seg := range w.in {
		w.cash = w.cash[:0]
		for i := range seg {
			if w.err != nil {
				break
			}
			c, err := w.r.apply(ctx, &seg[i])
			if err != nil {
				w.err = err
				break
			}
			w.cash = append(w.cash, c)
		}
		w.wg.Done()
	}
}

// drive runs the stream: it checks each item's order and time, cuts the stream at
// each sample boundary (the wallets must all be there before a sample is taken), and
// has every rule set's worker price each segment.
func (s *simulation) drive(ctx context.Context, first Item, src Source) error {
	batches, stop := readAhead(ctx, first, src)
	defer stop()
	var wg sync.WaitGroup
	for _, r := range s.runners {
		w := &worker{r: r, in: make(chan []Item), wg: &wg}
		s.workers = append(s.workers, w)
		go w.loop(ctx)
	}
	defer func() {
		for _, w := range s.workers {
			close(w.in)
		}
	}()
	for b := range batches {
		start := 0
		for i := range b.items {
			it := &b.items[i]
			t := it.Time()
			if err := s.check(it, t); err != nil {
				return err
			}
			if !s.nextSample.After(t) {
				if err := s.flush(ctx, b.items[start:i]); err != nil {
					return err
				}
				start = i
				if err := s.samplesUpTo(ctx, t); err != nil {
					return err
				}
			}
			s.last = t
		}
		if err := s.flush(ctx, b.items[start:]); err != nil {
			return err
		}
		if b.err != nil {
			return b.err
		}
	}
	return ctx.Err()
}

// check refuses an item out of time order, or one that is neither an order nor a bill.
func (s *simulation) check(it *Item, t time.Time) error {
	if t.Before(s.last) {
		return inputErr(it.Pos, "%s comes before the item before it (%s): items must be in time order",
			t.Format(time.RFC3339Nano), s.last.Format(time.RFC3339Nano))
	}
	if (it.Order == nil) == (it.Bill == nil) {
		return inputErr(it.Pos, "an item is an order or a bill")
	}
	return nil
}

// flush has every worker price seg, then counts the items and offers each to the
// changed items.
func (s *simulation) flush(ctx context.Context, seg []Item) error {
	if len(seg) == 0 {
		return nil
	}
	var wg *sync.WaitGroup
	for _, w := range s.workers {
		wg = w.wg
		wg.Add(1)
		w.in <- seg
	}
	wg.Wait()
	for _, w := range s.workers {
		if w.err != nil {
			return w.err
		}
	}
	for j := range seg {
		it := &seg[j]
		idx := s.rep.Items
		s.rep.Items++
		if it.Bill != nil {
			s.rep.Bills++
		} else {
			s.rep.Orders++
		}
		for k, w := range s.workers {
			s.changes.set(k, w.cash[j])
		}
		s.changes.offer(idx, it)
		if s.opts.Progress != nil && s.rep.Items%4096 == 0 {
			s.opts.Progress(s.rep.Items)
		}
	}
	return ctx.Err()
}
