package voucher

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Instrument returns instrument id as stored (its state as of its owner's last step).
func (w *Wallet) Instrument(ctx context.Context, id string) (StoredInstrument, bool, error) {
	var si StoredInstrument
	var ok bool
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		si, ok, err = tx.Instrument(ctx, id)
		return err
	})
	return si, ok, err
}

// InstrumentView is an instrument as it is at a moment, with its status then.
type InstrumentView struct {
	StoredInstrument
	Status Status `json:"status"`
}

// Instruments returns account's instruments as they are at at, sorted by id: what
// expires or ends by then is applied in memory, as Quote does, and nothing is written.
// Errors: ErrClockBackwards (at is before the account's clock).
func (w *Wallet) Instruments(ctx context.Context, account string, at time.Time) ([]InstrumentView, error) {
	var out []InstrumentView
	err := w.view(ctx, at, func(s *step) error {
		if err := s.lock(account); err != nil {
			return err
		}
		for _, e := range s.insts.all() {
			si := e.si
			if si.Account() != account {
				continue
			}
			pol, _ := w.p.Policy(si.Instrument.Type)
			out = append(out, InstrumentView{StoredInstrument: si.Clone(), Status: si.Instrument.StatusAt(pol, at)})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b InstrumentView) int { return cmp.Compare(a.ID(), b.ID()) })
	return out, err
}

// Status returns the status of instrument id at at, as stored (Instruments applies
// what happens to an account up to a time; this does not).
func (w *Wallet) Status(ctx context.Context, id string, at time.Time) (Status, error) {
	si, ok, err := w.Instrument(ctx, id)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: no instrument %q", ErrUnknownInstrument, id)
	}
	pol, _ := w.p.Policy(si.Instrument.Type)
	return si.Instrument.StatusAt(pol, at), nil
}

// Clock returns account's clock: the time of its latest step (ok false: none yet).
func (w *Wallet) Clock(ctx context.Context, account string) (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		t, ok, err = tx.Account(ctx, account)
		return err
	})
	return t, ok, err
}

// Order returns the committed order id: its quote as committed and the lines refunded.
func (w *Wallet) Order(ctx context.Context, id string) (OrderRecord, bool, error) {
	var rec OrderRecord
	var ok bool
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		rec, ok, err = tx.Order(ctx, id)
		return err
	})
	return rec, ok, err
}

// Orders returns up to limit of account's committed orders with an id after after,
// sorted by id: page with the last id returned.
func (w *Wallet) Orders(ctx context.Context, account, after string, limit int) ([]OrderRecord, error) {
	var out []OrderRecord
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		out, err = tx.AccountOrders(ctx, account, after, limit)
		return err
	})
	return out, err
}

// Reservation returns the stored reservation of order id; it is live while the
// clock is before its Until.
func (w *Wallet) Reservation(ctx context.Context, orderID string) (Reservation, bool, error) {
	var r Reservation
	var ok bool
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		r, ok, err = tx.Reservation(ctx, orderID)
		return err
	})
	return r, ok, err
}

// Ledger returns the entries q selects, in Seq order: page with AfterSeq and Limit.
func (w *Wallet) Ledger(ctx context.Context, q LedgerQuery) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		out, err = tx.Entries(ctx, q)
		return err
	})
	return out, err
}

// verifyPage is how many rows Verify reads at once.
const verifyPage = 1000

// Verify checks the whole ledger against the instruments and reservations, in one
// consistent view of the store, and reports every broken invariant (see VerifyLedger).
func (w *Wallet) Verify(ctx context.Context) error {
	var entries []LedgerEntry
	var insts []StoredInstrument
	var resv []Reservation
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		entries, insts, resv = nil, nil, nil
		var err error
		if entries, err = tx.Entries(ctx, LedgerQuery{}); err != nil {
			return err
		}
		if insts, err = pageAll(func(after string) ([]StoredInstrument, string, error) {
			page, err := tx.Instruments(ctx, after, verifyPage)
			if len(page) == 0 {
				return page, "", err
			}
			return page, page[len(page)-1].ID(), err
		}); err != nil {
			return err
		}
		resv, err = pageAll(func(after string) ([]Reservation, string, error) {
			page, err := tx.Reservations(ctx, after, verifyPage)
			if len(page) == 0 {
				return page, "", err
			}
			return page, page[len(page)-1].OrderID, err
		})
		return err
	})
	if err != nil {
		return err
	}
	return VerifyLedger(entries, insts, resv)
}

// pageAll reads pages until one is shorter than verifyPage.
func pageAll[T any](page func(after string) ([]T, string, error)) ([]T, error) {
	var out []T
	after := ""
	for {
		p, last, err := page(after)
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
		if len(p) < verifyPage {
			return out, nil
		}
		after = last
	}
}
