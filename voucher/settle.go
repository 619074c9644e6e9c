package voucher

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// PutOrganization stores organization org at at, a step on its payer: its accounts
// must be in no other organization. Replacing an organization keeps its sharing
// history only as org gives it. Errors: ErrInvalidOrganization, ErrClockBackwards.
func (w *Wallet) PutOrganization(ctx context.Context, org Organization, at time.Time) error {
	if err := org.Validate(); err != nil {
		return err
	}
	org = org.Clone()
	return w.update(ctx, at, func(s *step) error {
		if err := s.lock(org.Payer); err != nil {
			return err
		}
		return s.tx.PutOrganization(s.ctx, org)
	})
}

// Organization returns organization id as stored.
func (w *Wallet) Organization(ctx context.Context, id string) (Organization, bool, error) {
	var org Organization
	var ok bool
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		org, ok, err = tx.Organization(ctx, id)
		return err
	})
	return org, ok, err
}

// SetSharing changes organization id's credit-sharing preference from at on, a step
// on its payer (only the payer may change it). A list names only members. Errors:
// ErrInvalidOrganization (unknown organization, a list naming another account),
// ErrClockBackwards.
func (w *Wallet) SetSharing(ctx context.Context, id string, sharing Sharing, at time.Time) error {
	sharing.Accounts = slices.Clone(sharing.Accounts)
	var payer string
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		org, ok, err := tx.Organization(ctx, id)
		if err == nil && !ok {
			err = fmt.Errorf("%w: no organization %q", ErrInvalidOrganization, id)
		}
		payer = org.Payer
		return err
	})
	if err != nil {
		return err
	}
	return w.update(ctx, at, func(s *step) error {
		if err := s.lock(payer); err != nil {
			return err
		}
		org, ok, err := s.tx.Organization(s.ctx, id)
		if err != nil {
			return err
		}
		if !ok || org.Payer != payer {
			return fmt.Errorf("%w: organization %q changed meanwhile; try again", ErrConflict, id)
		}
		// A change at the same instant as the last replaces it.
		if n := len(org.Sharing); n > 0 && org.Sharing[n-1].At != nil && org.Sharing[n-1].At.Equal(at) {
			org.Sharing = org.Sharing[:n-1]
		}
		org.Sharing = append(org.Sharing, SharingChange{At: &at, Sharing: sharing})
		if err := org.Validate(); err != nil {
			return err
		}
		return s.tx.PutOrganization(s.ctx, org)
	})
}

// Settle settles bill b at the last instant of its period, a step on every account of
// the bill: one account's (which must be in no organization), or an organization's
// payer and every account that is a member at some time in the period (an account
// of an organization settles alone for a period it is a member at no time of). Their clocks
// move to that instant, and the bill commits as an order (its id is an order id):
// deduction balances drop, and the ledger records what each instrument paid of each
// account's charges. Errors: ErrClockBackwards (an account's clock is past the
// period's last instant), ErrDuplicateOrder, ErrInvalidOrder (an unknown
// organization, a charge outside the period or of another account), then the
// Pricer's.
func (w *Wallet) Settle(ctx context.Context, b Bill) (*SettleResult, error) {
	bp, ok := w.p.(BillPricer)
	if !ok {
		return nil, fmt.Errorf("voucher: wallet: the pricer does not settle bills")
	}
	var res *SettleResult
	err := w.update(ctx, b.At(), func(s *step) error {
		org, accounts, err := s.billAccounts(&b)
		if err != nil {
			return err
		}
		seen, err := s.seeOrder(b.ID)
		if err != nil {
			return err
		}
		if err := s.lock(accounts...); err != nil {
			return err
		}
		if err := s.notDuplicate(b.ID, seen); err != nil {
			return err
		}
		var insts []Instrument
		for _, e := range s.insts.all() {
			if slices.Contains(accounts, e.si.Account()) {
				insts = append(insts, e.si.Instrument)
			}
		}
		slices.SortFunc(insts, func(a, b Instrument) int { return compareIDs(a.ID, b.ID) })
		q, err := bp.Settle(b, org, insts)
		if err != nil {
			return err
		}
		if err := s.available(q); err != nil {
			return err
		}
		if err := s.commitOrder(q, b.ID, accounts[0], false); err != nil {
			return err
		}
		res = &SettleResult{Quote: q, Forfeited: s.forfeitedMap()}
		return nil
	})
	return res, err
}

// SettleResult is a settled bill: its quote, and what the accounts lost while the
// settle moved their clocks to the period's last instant.
type SettleResult struct {
	Quote *Quote `json:"quote"`
	// Forfeited is the value lost per instrument id in this step; only amounts above zero.
	Forfeited map[string]Money `json:"forfeited"`
}

func compareIDs(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// billAccounts returns the organization of bill b (nil for one account's) and the
// accounts of the bill, the payer (or the account) first.
func (s *step) billAccounts(b *Bill) (*Organization, []string, error) {
	if b.Organization == "" {
		if b.Account == "" {
			return nil, nil, fmt.Errorf("%w: a bill names an organization or an account", ErrInvalidOrder)
		}
		id, ok, err := s.tx.AccountOrganization(s.ctx, b.Account)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			// A member at some time in the period settles on the organization's bill;
			// before joining or after leaving, the account settles alone.
			org, found, err := s.tx.Organization(s.ctx, id)
			if err != nil {
				return nil, nil, err
			}
			if found && slices.Contains(org.MembersDuring(b.Start, b.End), b.Account) {
				return nil, nil, fmt.Errorf("%w: account %q is a member of organization %q during the period: settle the organization's bill", ErrInvalidOrder, b.Account, id)
			}
		}
		return nil, []string{b.Account}, nil
	}
	org, ok, err := s.tx.Organization(s.ctx, b.Organization)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: no organization %q", ErrInvalidOrder, b.Organization)
	}
	return &org, org.MembersDuring(b.Start, b.End), nil
}
