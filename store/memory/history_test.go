package memory_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// A store without history keeps what later steps read, as the contract says (a failed
// Update leaves nothing, ids are unique, entries are numbered in order), and drops
// what it says: committed quotes and the ledger.
func TestWithoutHistoryKeepsOnlyWhatStepsRead(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.WithoutHistory())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	inst := func(id, account string, expires time.Time) voucher.StoredInstrument {
		return voucher.StoredInstrument{Kind: voucher.Deduction, Expires: &expires,
			Instrument: voucher.Instrument{ID: id, Type: "voucher", Account: account, Amount: decimal.NewFromInt(10)}}
	}
	boom := errors.New("boom")
	err := s.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		require.NoError(t, tx.InsertInstrument(ctx, inst("v1", "a", t0)))
		require.NoError(t, tx.AppendEntries(ctx, make([]voucher.LedgerEntry, 3)))
		return boom
	})
	require.ErrorIs(t, err, boom)
	var seqs []int64
	for i := range 2 {
		require.NoError(t, s.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
			es := make([]voucher.LedgerEntry, 2)
			require.NoError(t, tx.AppendEntries(ctx, es))
			seqs = append(seqs, es[0].Seq, es[1].Seq)
			if i == 0 {
				return tx.InsertOrder(ctx, voucher.OrderRecord{ID: "o1", Account: "a", At: t0, Quote: &voucher.Quote{OrderID: "o1"}})
			}
			require.ErrorIs(t, tx.InsertOrder(ctx, voucher.OrderRecord{ID: "o1", Account: "b"}), voucher.ErrDuplicateOrder)
			require.ErrorIs(t, tx.InsertReservation(ctx, voucher.Reservation{OrderID: "o1", Account: "b"}), voucher.ErrDuplicateOrder)
			return tx.InsertInstrument(ctx, inst("v1", "a", t0.Add(time.Hour)))
		}))
	}
	require.Equal(t, []int64{1, 2, 3, 4}, seqs, "the rolled-back entries' numbers are handed out again, in order")
	require.NoError(t, s.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
		rec, ok, err := tx.Order(ctx, "o1")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, voucher.OrderRecord{ID: "o1", Account: "a"}, rec, "the quote is not kept")
		es, err := tx.Entries(ctx, voucher.LedgerQuery{})
		require.NoError(t, err)
		require.Empty(t, es, "the ledger is not kept")
		due, err := tx.Due(ctx, t0.Add(time.Hour), "", 0)
		require.NoError(t, err)
		require.Equal(t, []string{"a"}, due)
		return nil
	}))
}

// Every scenario that does not refund (a refund needs the committed quote) passes on a
// store without history, as on one with.
func TestWithoutHistoryRunsTheScenarios(t *testing.T) {
	files, err := scenario.Files("../../testdata/conformance/*.yaml", "../../providers/testdata/*/*.yaml")
	require.NoError(t, err)
	ran := 0
	for _, f := range files {
		s, err := scenario.Load(f)
		require.NoError(t, err)
		if slices.ContainsFunc(s.Steps, func(st scenario.Step) bool { return st.Action == scenario.ActionRefund }) {
			continue
		}
		res := scenario.Run(s, scenario.WithStore(memory.New(memory.WithoutHistory())))
		require.True(t, res.Passed(), "%s: %s", f, res.Report())
		ran++
	}
	require.Greater(t, ran, 50, "most scenarios have no refund")
}

// A wallet on a store without history refuses a refund with a clear error.
func TestWithoutHistoryRefusesARefund(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.WithoutHistory())
	require.NoError(t, s.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		return tx.InsertOrder(ctx, voucher.OrderRecord{ID: "o1", Account: "a", Quote: &voucher.Quote{}})
	}))
	w := voucher.NewWallet(stubPricer{}, s)
	_, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	require.ErrorContains(t, err, `keeps no quote of order "o1"`)
}

type stubPricer struct{}

func (stubPricer) Currency() voucher.Currency               { return voucher.MustCurrency("CNY") }
func (stubPricer) Policy(string) (voucher.TypePolicy, bool) { return voucher.TypePolicy{}, false }
func (stubPricer) Quote(voucher.Order, []voucher.Instrument, time.Time) (*voucher.Quote, error) {
	return nil, errors.New("not used")
}
