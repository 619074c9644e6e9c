package voucher

import "time"

// Pricer prices an order against instruments at a moment, purely: it changes nothing.
// rules.Engine implements it; the Wallet depends on this interface only, so voucher
// never imports a rule set.
type Pricer interface {
	// Currency is the currency every order and instrument is priced in.
	Currency() Currency
	// Policy returns what the wallet needs to know of an instrument type.
	Policy(instrumentType string) (TypePolicy, bool)
	// Quote prices order against instruments at at. Instruments carry their state
	// (Balance, Held, Redeemed, HeldRedemptions); held value is never available.
	// A business "no" is a Rejection in the quote; an error is a step error
	// (ErrInvalidOrder, ErrCurrencyMismatch, ErrUnknownInstrument, ErrCodeNotFound).
	Quote(order Order, instruments []Instrument, at time.Time) (*Quote, error)
}
