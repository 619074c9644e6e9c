package voucher

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Activate claims the activation instrument whose Code is code for account at at (a
// step on account, serialised with every other step on that code): it becomes
// account's, no longer pending, activated at at. Errors: ErrClockBackwards,
// ErrCodeNotFound (no activation instrument has that code; typed-in codes are not
// activation codes), ErrCodeAlreadyUsed (already activated, by anyone),
// ErrCodeExpired (its validity has ended).
func (w *Wallet) Activate(ctx context.Context, code, account string, at time.Time) (Instrument, error) {
	if account == "" {
		return Instrument{}, fmt.Errorf("%w: activating code %q needs an account", ErrInvalidInstrument, code)
	}
	var out Instrument
	err := w.update(ctx, at, func(s *step) error {
		if err := s.lock(account); err != nil {
			return err
		}
		found, ok, err := s.tx.InstrumentByCode(s.ctx, code)
		if err != nil {
			return err
		}
		var pol TypePolicy
		if ok {
			pol, _ = w.p.Policy(found.Instrument.Type)
		}
		if !ok || pol.TypedCode || !found.Instrument.PendingActivation && found.Instrument.ActivatedAt == nil {
			return fmt.Errorf("%w: no activation code %q", ErrCodeNotFound, code)
		}
		si, err := s.get(found.ID())
		if err != nil {
			return err
		}
		in := &si.Instrument
		if !in.PendingActivation {
			return fmt.Errorf("%w: code %q was activated at %s", ErrCodeAlreadyUsed, code, in.ActivatedAt.Format(time.RFC3339))
		}
		if si.Expires != nil && !at.Before(*si.Expires) {
			return fmt.Errorf("%w: code %q expired at %s", ErrCodeExpired, code, si.Expires.Format(time.RFC3339))
		}
		if si, err = s.mut(si.ID()); err != nil {
			return err
		}
		in = &si.Instrument
		in.Account, in.PendingActivation, in.ActivatedAt = account, false, &at
		amount := in.Amount
		if si.Kind == Deduction {
			amount = in.CurrentBalance()
		}
		s.record(EntryActivate, si, at, account, "", amount, decimal.Zero, "")
		out = in.Clone()
		return nil
	})
	return out, err
}

// owner reads the owner of instrument id, to lock it before the instrument.
func (w *Wallet) owner(ctx context.Context, id string) (string, error) {
	var acct string
	err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		si, ok, err := tx.Instrument(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: no instrument %q", ErrUnknownInstrument, id)
		}
		acct = si.Account()
		return nil
	})
	return acct, err
}

// operate runs an operator's change of instrument id at at, a step on its owner's
// account; reason is recorded with its ledger entry and must not be empty.
func (w *Wallet) operate(ctx context.Context, id string, at time.Time, reason string, fn func(s *step, si *StoredInstrument) error) error {
	if reason == "" {
		return fmt.Errorf("%w: instrument %q: an operator's change needs a reason", ErrInvalidInstrument, id)
	}
	acct, err := w.owner(ctx, id)
	if err != nil {
		return err
	}
	return w.update(ctx, at, func(s *step) error {
		if err := s.lock(acct); err != nil {
			return err
		}
		si, err := s.mut(id)
		if err != nil {
			return err
		}
		if si.Account() != acct {
			return fmt.Errorf("%w: instrument %q changed owner meanwhile; try again", ErrConflict, id)
		}
		return fn(s, si)
	})
}

// Revoke voids what is left of instrument id at at: a deduction loses its balance not
// held (a revoke entry) and what is held is forfeited when its hold ends; a discount
// instrument is used up. Errors: ErrUnknownInstrument, ErrClockBackwards,
// ErrInvalidInstrument (already revoked, or no reason).
func (w *Wallet) Revoke(ctx context.Context, id string, at time.Time, reason string) error {
	return w.operate(ctx, id, at, reason, func(s *step, si *StoredInstrument) error {
		in := &si.Instrument
		if in.Revoked {
			return fmt.Errorf("%w: instrument %q is already revoked", ErrInvalidInstrument, id)
		}
		in.Revoked = true
		left := decimal.Zero
		if si.Kind == Deduction && !si.Expired {
			left = decimal.Max(in.Available(), decimal.Zero)
			s.setBalance(si, in.CurrentBalance().Sub(left))
		}
		s.record(EntryRevoke, si, at, si.Account(), "", left, left.Neg(), reason)
		return nil
	})
}

// Adjust changes the balance of deduction instrument id by delta at at; the new
// balance must stay within what is held and the face value. Errors:
// ErrUnknownInstrument, ErrClockBackwards, ErrInvalidInstrument (a discount
// instrument, an expired or revoked one, a balance out of bounds, no reason).
func (w *Wallet) Adjust(ctx context.Context, id string, delta decimal.Decimal, at time.Time, reason string) error {
	return w.operate(ctx, id, at, reason, func(s *step, si *StoredInstrument) error {
		in := &si.Instrument
		if si.Kind != Deduction || si.Expired || in.Revoked {
			return fmt.Errorf("%w: instrument %q: only a deduction instrument that is not expired or revoked has a balance to adjust", ErrInvalidInstrument, id)
		}
		cur, _ := in.CurrencyIn(s.w.cur)
		nb := in.CurrentBalance().Add(delta)
		if err := cur.Holds(delta); err != nil || delta.IsZero() || nb.LessThan(in.Held) || nb.GreaterThan(in.Amount) {
			return fmt.Errorf("%w: instrument %q: adjusting balance %s by %s must leave it within held %s and face value %s, at the scale of %s",
				ErrInvalidInstrument, id, in.CurrentBalance(), delta, in.Held, in.Amount, cur.Code())
		}
		s.setBalance(si, nb)
		s.record(EntryAdjust, si, at, si.Account(), "", delta.Abs(), delta, reason)
		return nil
	})
}

// Extend moves the expiry of instrument id to expiresAt at at: later than the current
// one, and after at. Errors: ErrUnknownInstrument, ErrClockBackwards,
// ErrInvalidInstrument (expired already, or an earlier expiry, or no reason).
func (w *Wallet) Extend(ctx context.Context, id string, expiresAt, at time.Time, reason string) error {
	if err := CheckTime(expiresAt); err != nil {
		return fmt.Errorf("%w: instrument %q: expires_at: %w", ErrInvalidInstrument, id, err)
	}
	return w.operate(ctx, id, at, reason, func(s *step, si *StoredInstrument) error {
		if si.Expired || si.Expires != nil && !at.Before(*si.Expires) {
			return fmt.Errorf("%w: instrument %q has expired and cannot be extended", ErrInvalidInstrument, id)
		}
		if !expiresAt.After(at) || si.Expires != nil && !expiresAt.After(*si.Expires) {
			return fmt.Errorf("%w: instrument %q: the new expiry %s must be after %s and after the current one",
				ErrInvalidInstrument, id, expiresAt.Format(time.RFC3339), at.Format(time.RFC3339))
		}
		si.Instrument.ExpiresAt = &expiresAt
		si.Expires = &expiresAt
		s.record(EntryExtend, si, at, si.Account(), "", decimal.Zero, decimal.Zero, reason)
		return nil
	})
}
