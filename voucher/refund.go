package voucher

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// RefundRequest asks to refund lines of a committed order.
type RefundRequest struct {
	OrderID string `json:"order"`
	// Lines are the line ids to refund. nil: every line not yet refunded. Non-nil and
	// empty is invalid.
	Lines []string `json:"lines,omitzero"`
	// Consumed is value already used, kept back from the cash refunded; nil: none.
	Consumed *decimal.Decimal `json:"consumed,omitempty"`
	// Key is an optional idempotency key: a refund of the same order with the same key
	// is made once, and asking again returns its result and changes nothing.
	Key string `json:"key,omitempty"`
}

// RefundResult is what a refund returned and what it did to deduction instruments.
type RefundResult struct {
	OrderID string `json:"order"`
	// Lines are the lines refunded by this step, in the order's line order.
	Lines []string `json:"lines"`
	// CashRefund is the cash of the refunded lines less Consumed, never below zero.
	CashRefund Money `json:"cash_refund"`
	// Forfeited is the value lost per instrument id in this step, including what
	// expired while the step moved the clock; only amounts above zero.
	Forfeited map[string]Money `json:"forfeited"`
	// Restored is the value given back per instrument id; only amounts above zero.
	Restored map[string]Money `json:"restored"`
}

// Refund refunds lines of a committed order at at, a step on the order's account and
// on the owners of the deduction instruments that paid it: the cash of the refunded
// lines less r.Consumed (never below zero) is returned; each deduction instrument's
// share of those lines is forfeited or restored as its type's refund rule says (a
// restore to an instrument that has expired or been revoked by then is forfeited
// instead); discount instruments stay used. With a Key, a repeated request returns the
// first result. Errors: ErrClockBackwards, ErrUnknownOrder, ErrInvalidRefund (a line
// the order does not have, a line listed twice, Consumed negative or finer than the
// scale, Lines non-nil and empty, a Key used before for another request),
// ErrAlreadyRefunded (a listed line was refunded before, or no line is left).
func (w *Wallet) Refund(ctx context.Context, r RefundRequest, at time.Time) (*RefundResult, error) {
	var res *RefundResult
	err := w.update(ctx, at, func(s *step) error {
		var err error
		res, err = s.refund(r)
		return err
	})
	return res, err
}

func (s *step) refund(r RefundRequest) (*RefundResult, error) {
	rec, ok, err := s.tx.Order(s.ctx, r.OrderID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: order %q is not committed", ErrUnknownOrder, r.OrderID)
	}
	if rec.Quote == nil {
		return nil, fmt.Errorf("voucher: wallet: the store keeps no quote of order %q (a store without history), so it cannot be refunded", r.OrderID)
	}
	if res, done, err := s.repeated(r); done {
		return res, err
	}
	accounts := []string{rec.Account}
	for _, a := range rec.Quote.Applications {
		if a.Kind == Deduction {
			accounts = append(accounts, a.Account)
		}
	}
	if err := s.lock(accounts...); err != nil {
		return nil, err
	}
	// Again under the locks: the same request may have committed meanwhile.
	if res, done, err := s.repeated(r); done {
		return res, err
	}
	// Read again under the account's lock: a refund of the same order may have
	// committed meanwhile.
	if rec, _, err = s.tx.Order(s.ctx, r.OrderID); err != nil {
		return nil, err
	}
	lines, err := refundLines(r, rec, s.w.cur)
	if err != nil {
		return nil, err
	}
	res, err := s.refundShares(rec, lines)
	if err != nil {
		return nil, err
	}
	res.CashRefund = NewMoney(decimal.Max(res.CashRefund.Amount().Sub(consumed(r)), decimal.Zero), res.CashRefund.Currency())
	rec.Refunded = append(slices.Clone(rec.Refunded), lines...)
	s.updated = append(s.updated, rec)
	if r.Key != "" {
		s.refunds = append(s.refunds, RefundRecord{OrderID: r.OrderID, Key: r.Key, At: s.at, Request: r, Result: *res})
	}
	return res, nil
}

// repeated reports whether r's idempotency key has been used for this order: then
// the step writes nothing and returns the first result (or ErrInvalidRefund when the
// key was used for another request).
func (s *step) repeated(r RefundRequest) (*RefundResult, bool, error) {
	if r.Key == "" {
		return nil, false, nil
	}
	done, ok, err := s.tx.Refund(s.ctx, r.OrderID, r.Key)
	if err != nil || !ok {
		return nil, err != nil, err
	}
	s.discard = true
	if !sameRefund(done.Request, r) {
		return nil, true, fmt.Errorf("%w: order %q: idempotency key %q was used for another refund", ErrInvalidRefund, r.OrderID, r.Key)
	}
	return &done.Result, true, nil
}

func consumed(r RefundRequest) decimal.Decimal {
	if r.Consumed == nil {
		return decimal.Zero
	}
	return *r.Consumed
}

func sameRefund(a, b RefundRequest) bool {
	return a.OrderID == b.OrderID && a.Key == b.Key && slices.Equal(a.Lines, b.Lines) &&
		(a.Lines == nil) == (b.Lines == nil) && consumed(a).Equal(consumed(b))
}

// refundShares returns the refund of lines of rec before Consumed: their cash, and
// each deduction instrument's share restored or forfeited.
func (s *step) refundShares(rec OrderRecord, lines []string) (*RefundResult, error) {
	q := rec.Quote
	cur := q.Total.Currency()
	if cur.IsZero() {
		cur = s.w.cur
	}
	refunding := make(map[string]bool, len(lines))
	for _, id := range lines {
		refunding[id] = true
	}
	cash := decimal.Zero
	for _, l := range q.Lines {
		if refunding[l.LineID] {
			cash = cash.Add(l.Cash.Amount())
		}
	}
	res := &RefundResult{OrderID: rec.ID, Lines: lines, CashRefund: NewMoney(cash, cur), Restored: map[string]Money{}}
	for _, a := range q.Applications {
		if a.Kind != Deduction {
			continue
		}
		share := decimal.Zero
		for _, la := range a.Lines {
			if refunding[la.LineID] {
				share = share.Add(la.Amount.Amount())
			}
		}
		if share.Sign() <= 0 {
			continue
		}
		si, err := s.mut(a.InstrumentID)
		if err != nil {
			return nil, err
		}
		rule := a.Refund
		if rule == "" {
			pol, _ := s.w.p.Policy(si.Instrument.Type)
			rule = pol.Refund
		}
		gone := si.Expired || si.Instrument.Revoked || si.Expires != nil && !s.at.Before(*si.Expires)
		if rule == RefundRestore && !gone {
			s.setBalance(si, si.Instrument.CurrentBalance().Add(share))
			s.record(EntryRefundRestore, si, s.at, rec.Account, rec.ID, share, share, "")
			addMoney(res.Restored, a.InstrumentID, s.money(si, share))
		} else {
			s.record(EntryRefundForfeit, si, s.at, rec.Account, rec.ID, share, decimal.Zero, "")
			s.forfeit(si, share)
		}
	}
	res.Forfeited = s.forfeitedMap()
	return res, nil
}

// refundLines checks r against the order and returns the lines to refund, in the
// order's line order.
func refundLines(r RefundRequest, rec OrderRecord, cur Currency) ([]string, error) {
	q := rec.Quote
	if r.Lines != nil && len(r.Lines) == 0 {
		return nil, fmt.Errorf("%w: order %q: lines is empty; omit it to refund every line left", ErrInvalidRefund, rec.ID)
	}
	if c := consumed(r); c.IsNegative() {
		return nil, fmt.Errorf("%w: order %q: consumed %s is negative", ErrInvalidRefund, rec.ID, c)
	} else if err := cur.Holds(c); err != nil {
		return nil, fmt.Errorf("%w: order %q: consumed: %s", ErrInvalidRefund, rec.ID, trimCode(err))
	}
	has := make(map[string]bool, len(q.Lines))
	for _, l := range q.Lines {
		has[l.LineID] = true
	}
	listed := make(map[string]bool, len(r.Lines))
	for _, id := range r.Lines {
		if !has[id] {
			return nil, fmt.Errorf("%w: order %q has no line %q", ErrInvalidRefund, rec.ID, id)
		}
		if listed[id] {
			return nil, fmt.Errorf("%w: order %q: line %q is listed twice", ErrInvalidRefund, rec.ID, id)
		}
		listed[id] = true
	}
	done := make(map[string]bool, len(rec.Refunded))
	for _, id := range rec.Refunded {
		done[id] = true
	}
	var lines []string
	for _, l := range q.Lines {
		switch {
		case r.Lines == nil && !done[l.LineID]:
			lines = append(lines, l.LineID)
		case listed[l.LineID] && done[l.LineID]:
			return nil, fmt.Errorf("%w: order %q: line %q was refunded before", ErrAlreadyRefunded, rec.ID, l.LineID)
		case listed[l.LineID]:
			lines = append(lines, l.LineID)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: order %q has no line left to refund", ErrAlreadyRefunded, rec.ID)
	}
	return lines, nil
}
