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
	// The wallet reuses the instruments' list once Quote returns: a Quote keeps no
	// part of it (strings and the values its pointers point to are the Pricer's to keep).
	Quote(order Order, instruments []Instrument, at time.Time) (*Quote, error)
}

// BillPricer is a Pricer that also settles a billing period's bill (rules.Engine).
type BillPricer interface {
	Pricer
	// Settle prices bill b at its last instant against the instruments of its
	// accounts, under organization org (nil for one account's bill); it changes
	// nothing. The quote's lines are the bill's charges; its Accounts give the
	// figures of each account with a charge.
	Settle(b Bill, org *Organization, instruments []Instrument) (*Quote, error)
}
