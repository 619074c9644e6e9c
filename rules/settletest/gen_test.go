package settletest_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/voucher"
)

// march is the period every generated bill settles.
var (
	start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end   = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
)

var products = []string{"ec2", "s3", "rds", "lambda", "marketplace"}

// gen makes organizations, bills and credits from one seed.
type gen struct {
	r *rand.Rand
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

// instant returns a time in the period, on a whole hour or, sometimes, exactly at its
// start.
func (g *gen) instant() time.Time {
	if g.r.IntN(4) == 0 {
		return start
	}
	return start.Add(time.Duration(g.r.IntN(31*24)) * time.Hour)
}

func (g *gen) tp(t time.Time) *time.Time { return &t }

// org returns an organization of a payer and up to five members; with moves, members
// may join or leave during the period (or before it), and the preference may change.
func (g *gen) org(moves bool) voucher.Organization {
	o := voucher.Organization{ID: "fam", Payer: "payer"}
	for i := range g.r.IntN(6) {
		m := voucher.Member{Account: fmt.Sprintf("m%d", i)}
		if moves {
			switch g.r.IntN(4) {
			case 1:
				m.JoinedAt = g.tp(g.instant())
			case 2:
				m.LeftAt = g.tp(g.instant().Add(time.Hour))
			case 3:
				j := g.instant()
				m.JoinedAt, m.LeftAt = g.tp(j), g.tp(j.Add(time.Duration(1+g.r.IntN(200))*time.Hour))
			}
		}
		o.Members = append(o.Members, m)
	}
	add := func(s voucher.Sharing) {
		var at *time.Time
		if n := len(o.Sharing); n > 0 {
			prev := start.Add(-time.Hour)
			if o.Sharing[n-1].At != nil {
				prev = *o.Sharing[n-1].At
			}
			at = g.tp(prev.Add(time.Duration(1+g.r.IntN(400)) * time.Hour))
			if g.r.IntN(5) == 0 {
				at = g.tp(end.Add(-time.Nanosecond)) // the last instant
			}
			if !at.After(prev) {
				return
			}
		}
		o.Sharing = append(o.Sharing, voucher.SharingChange{At: at, Sharing: s})
	}
	for range g.r.IntN(3) {
		add(g.sharing(o))
	}
	return o
}

// sharing returns a random preference: all, none, or a list of members.
func (g *gen) sharing(o voucher.Organization) voucher.Sharing {
	switch g.r.IntN(3) {
	case 0:
		return voucher.Sharing{All: true}
	case 1:
		return voucher.Sharing{}
	}
	list := []string{}
	for _, m := range o.Members {
		if g.r.IntN(2) == 0 {
			list = append(list, m.Account)
		}
	}
	return voucher.Sharing{Accounts: list}
}

// money returns a random amount of up to max cents, as dollars.
func (g *gen) money(maxCents int) decimal.Decimal {
	return decimal.New(int64(g.r.IntN(maxCents+1)), -2)
}

// round returns a random amount of up to max cents; half the time a multiple of five
// dollars, so that groups often owe the same and ties are decided.
func (g *gen) round(maxCents int) decimal.Decimal {
	if g.r.IntN(2) == 0 {
		return decimal.NewFromInt(int64(5 * g.r.IntN(5)))
	}
	return g.money(maxCents)
}

// charges returns up to n charges of the accounts, in the period.
func (g *gen) charges(n int, accounts []string) []voucher.Charge {
	out := make([]voucher.Charge, 1+g.r.IntN(n))
	skus := []string{"", "", "a", "b"}
	for i := range out {
		out[i] = voucher.Charge{
			Line: voucher.Line{ID: fmt.Sprintf("l%d", i), Product: products[g.r.IntN(len(products))],
				SKU: skus[g.r.IntN(len(skus))], Amount: g.round(10000)},
			Account: accounts[g.r.IntN(len(accounts))], IncurredAt: g.instant(),
		}
		if g.r.IntN(8) == 0 {
			out[i].Amount = out[i].Amount.Add(decimal.New(int64(g.r.IntN(10)), -3)) // finer than a cent
		}
	}
	return out
}

// credits returns up to n aws credits owned by the accounts. With lateEffective false,
// none becomes effective after the period began.
func (g *gen) credits(n int, accounts []string, lateEffective bool) []voucher.Instrument {
	out := make([]voucher.Instrument, g.r.IntN(n+1))
	for i := range out {
		amt := g.round(20000)
		if !amt.IsPositive() {
			amt = decimal.NewFromInt(5)
		}
		in := voucher.Instrument{ID: fmt.Sprintf("c%02d", i), Type: "credit",
			Account: accounts[g.r.IntN(len(accounts))], Amount: amt}
		if g.r.IntN(3) == 0 {
			b := amt.Sub(g.money(int(amt.Shift(2).IntPart())))
			if b.IsPositive() {
				in.Balance = &b
			}
		}
		if g.r.IntN(2) == 0 {
			for _, p := range products {
				if g.r.IntN(2) == 0 {
					in.Products = append(in.Products, p)
				}
			}
			if in.Products == nil {
				in.Products = []string{"ec2"}
			}
		}
		if g.r.IntN(4) == 0 {
			f := false
			in.Shared = &f
		}
		switch g.r.IntN(5) {
		case 0:
			in.EffectiveAt = g.tp(start.Add(-24 * time.Hour))
		case 1:
			if lateEffective {
				in.EffectiveAt = g.tp(g.instant())
			}
		}
		switch g.r.IntN(4) {
		case 0:
			in.ExpiresAt = g.tp(end.Add(time.Duration(g.r.IntN(3)*24*30) * time.Hour))
		case 1:
			in.ExpiresAt = g.tp(end.Add(time.Duration(g.r.IntN(3)) * 24 * time.Hour))
		}
		if g.r.IntN(2) == 0 {
			in.IssuedAt = g.tp(start.Add(-time.Duration(g.r.IntN(3)) * 24 * time.Hour))
		}
		out[i] = in
	}
	return out
}
