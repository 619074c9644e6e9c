package voucher

import (
	"fmt"
	"slices"
	"time"
)

// Organization is a billing family (an AWS Organization with consolidated billing, an
// Azure billing profile, a GCP billing account): the accounts whose charges are
// settled on one bill and may share credits.
type Organization struct {
	ID string `json:"id"`
	// Payer is the management account: a member throughout.
	Payer string `json:"payer"`
	// Members are the other accounts, each with the times it joined and left.
	Members []Member `json:"members,omitempty"`
	// Sharing is the credit-sharing preference over time, by At ascending; the first
	// change has no At (in force from the beginning). Empty: every member shares.
	Sharing []SharingChange `json:"sharing,omitempty"`
}

// Member is an account of an organization: a member at t when JoinedAt <= t < LeftAt
// (nil: no bound).
type Member struct {
	Account  string     `json:"account"`
	JoinedAt *time.Time `json:"joined_at,omitempty"`
	LeftAt   *time.Time `json:"left_at,omitempty"`
}

// Sharing is a credit-sharing preference: every member shares (All), none does
// (neither All nor Accounts), or the payer and the listed accounts do.
type Sharing struct {
	All      bool     `json:"all,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
}

// SharingChange is a preference in force from At on (nil: from the beginning).
type SharingChange struct {
	At      *time.Time `json:"at,omitempty"`
	Sharing Sharing    `json:"sharing"`
}

// ShareAll is the default preference: every member shares.
var ShareAll = Sharing{All: true}

// MemberAt reports whether account is a member at t (the payer always is).
func (o *Organization) MemberAt(account string, t time.Time) bool {
	if account == o.Payer {
		return true
	}
	for _, m := range o.Members {
		if m.Account == account {
			return (m.JoinedAt == nil || !t.Before(*m.JoinedAt)) && (m.LeftAt == nil || t.Before(*m.LeftAt))
		}
	}
	return false
}

// Accounts returns the payer and every member, in that order.
func (o *Organization) Accounts() []string {
	out := []string{o.Payer}
	for _, m := range o.Members {
		out = append(out, m.Account)
	}
	return out
}

// Clone returns a copy that shares nothing with o.
func (o Organization) Clone() Organization {
	o.Members = slices.Clone(o.Members)
	for i := range o.Members {
		o.Members[i].JoinedAt = clonePtr(o.Members[i].JoinedAt)
		o.Members[i].LeftAt = clonePtr(o.Members[i].LeftAt)
	}
	o.Sharing = slices.Clone(o.Sharing)
	for i := range o.Sharing {
		o.Sharing[i].At = clonePtr(o.Sharing[i].At)
		o.Sharing[i].Sharing.Accounts = slices.Clone(o.Sharing[i].Sharing.Accounts)
	}
	return o
}

// Has reports whether account is the payer or one of the members (at any time).
func (o *Organization) Has(account string) bool {
	return account == o.Payer || slices.ContainsFunc(o.Members, func(m Member) bool { return m.Account == account })
}

// MembersDuring returns the payer and every account that is a member at some time in
// [from, to), the payer first, then in the order Members lists them.
func (o *Organization) MembersDuring(from, to time.Time) []string {
	out := []string{o.Payer}
	for _, m := range o.Members {
		if (m.JoinedAt == nil || m.JoinedAt.Before(to)) && (m.LeftAt == nil || m.LeftAt.After(from)) {
			out = append(out, m.Account)
		}
	}
	return out
}

// SharingAt is the preference in force at t.
func (o *Organization) SharingAt(t time.Time) Sharing {
	s := ShareAll
	for _, c := range o.Sharing {
		if c.At == nil || !t.Before(*c.At) {
			s = c.Sharing
		}
	}
	return s
}

// Shares reports whether account shares its credits (and receives others') under s in
// organization o.
func (s Sharing) Shares(o *Organization, account string) bool {
	return s.All || len(s.Accounts) > 0 && (account == o.Payer || slices.Contains(s.Accounts, account))
}

// Validate reports every problem with the organization: a payer and an id, accounts
// listed once (the payer not among the members), joined before left, a sharing list
// naming only members, sharing changes in time order.
func (o *Organization) Validate() error {
	var v validator
	if o.ID == "" {
		v.add("id", "is required")
	}
	if o.Payer == "" {
		v.add("payer", "is required")
	}
	seen := map[string]int{}
	for i, m := range o.Members {
		f := indexed("members", i)
		switch j, dup := seen[m.Account]; {
		case m.Account == "":
			v.add(f+".account", "is required")
		case m.Account == o.Payer:
			v.add(f+".account", fmt.Sprintf("%q is the payer, a member throughout", m.Account))
		case dup:
			v.add(f+".account", fmt.Sprintf("%q is also %s", m.Account, indexed("members", j)))
		default:
			seen[m.Account] = i
		}
		if m.JoinedAt != nil && m.LeftAt != nil && !m.JoinedAt.Before(*m.LeftAt) {
			v.add(f+".left_at", "must be after joined_at")
		}
	}
	for i, c := range o.Sharing {
		f := indexed("sharing", i)
		if i > 0 && (c.At == nil || o.Sharing[i-1].At != nil && !c.At.After(*o.Sharing[i-1].At)) {
			v.add(f+".at", "changes must be in time order, each after the one before")
		}
		for k, a := range c.Sharing.Accounts {
			if !o.Has(a) {
				v.add(fmt.Sprintf("%s.accounts[%d]", f, k), fmt.Sprintf("%q is not a member of organization %q", a, o.ID))
			}
		}
	}
	return v.err(ErrInvalidOrganization)
}

// Bill is one billing period's pay-as-you-go charges, settled for one account or for
// an organization.
type Bill struct {
	// ID is an order id: a settled bill is a committed order.
	ID string `json:"id"`
	// Start (inclusive) and End (exclusive) are the period: a calendar month.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Organization is whose bill, or "" for Account's alone.
	Organization string   `json:"organization,omitempty"`
	Account      string   `json:"account,omitempty"`
	Charges      []Charge `json:"items"`
}

// Charge is one line of a bill: who incurred it and when.
type Charge struct {
	Line
	// Account incurred it.
	Account string `json:"account"`
	// IncurredAt is within the bill's period.
	IncurredAt time.Time `json:"incurred_at"`
}

// At is the instant a bill is settled: the period's last (one nanosecond before End).
func (b *Bill) At() time.Time { return b.End.Add(-time.Nanosecond) }

// MonthPeriod returns the calendar month "YYYY-MM" in loc as [start, end).
func MonthPeriod(month string, loc *time.Location) (time.Time, time.Time, error) {
	t, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: period %q is not a month such as 2026-02", ErrInvalidOrder, month)
	}
	return t, t.AddDate(0, 1, 0), nil
}
