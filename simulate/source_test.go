package simulate_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/simulate"
	"github.com/voucherkit/voucherkit/voucher"
)

func drain(t *testing.T, src simulate.Source) ([]simulate.Item, error) {
	t.Helper()
	var out []simulate.Item
	for {
		it, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
}

func TestJSONLinesOrdersAndBills(t *testing.T) {
	in := `{"id":"o1","account":"a","type":"usage","payment":"pay_as_you_go","items":[{"id":"1","product":"ec2","sku":"s","amount":"1.5"}],"at":"2026-01-05T10:00:00Z"}

{"id":"b1","start":"2026-01-01T00:00:00Z","end":"2026-02-01T00:00:00Z","account":"a","items":[{"id":"c1","product":"ec2","amount":"3","account":"a","incurred_at":"2026-01-02T00:00:00Z"}]}
`
	items, err := drain(t, simulate.JSONLines(strings.NewReader(in)))
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, "o1", items[0].Order.ID)
	require.Equal(t, "s", items[0].Order.Lines[0].SKU)
	require.Equal(t, "1.5", items[0].Order.Lines[0].Amount.String())
	require.Equal(t, "line 1", items[0].Pos)
	require.Equal(t, "b1", items[1].Bill.ID)
	require.Equal(t, "line 3", items[1].Pos)
	require.Equal(t, time.Date(2026, 1, 31, 23, 59, 59, 999999999, time.UTC), items[1].Time())
	require.Equal(t, "a", items[1].Bill.Charges[0].Account)
}

func TestJSONLinesErrors(t *testing.T) {
	cases := map[string]string{
		`{"id":"o1"}`:          `line 1: an order needs "at"`,
		`{"id":"o1","at":"x"}`: "line 1: ",
		`{"id":"o1","at":"2026-01-01T00:00:00Z","colour":1}`:                                                   `line 1: unknown key "colour"`,
		`{"id":"b","start":"2026-01-01T00:00:00Z","end":"2026-02-01T00:00:00Z","type":"new"}`:                  "a bill has id, start, end",
		`{"id":"o","at":"2026-01-01T00:00:00Z","items":[{"id":"1","product":"p","amount":"1","account":"x"}]}`: "items[0]: an order's item has no account",
		`not json`: "line 1: not valid JSON at byte",
		`{"id":"o","at":"2026-01-01T00:00:00Z","items":"many"}`: "items must be",
	}
	for in, want := range cases {
		_, err := drain(t, simulate.JSONLines(strings.NewReader(in)))
		require.ErrorIs(t, err, simulate.ErrInput, in)
		require.ErrorContains(t, err, want, in)
	}
	long := `{"id":"` + strings.Repeat("x", simulate.MaxLine) + `"}`
	_, err := drain(t, simulate.JSONLines(strings.NewReader(long)))
	require.ErrorContains(t, err, "line 1: bufio.Scanner: token too long")
}

func TestOrdersCSV(t *testing.T) {
	in := "id,at,account,type,payment,product,amount,sku,first_purchase\n" +
		"o1,2026-01-05,a,new,subscription,ecs,10,s1,true\n" +
		"o1,2026-01-05,a,new,subscription,oss,2.5,,true\n" +
		"o2,2026-01-06T08:00:00+08:00,b,renewal,subscription,ecs,3,,\n"
	src, err := simulate.OrdersCSV(strings.NewReader(in), shanghai)
	require.NoError(t, err)
	items, err := drain(t, src)
	require.NoError(t, err)
	require.Len(t, items, 2)
	o1 := items[0].Order
	require.Equal(t, []string{"1", "2"}, []string{o1.Lines[0].ID, o1.Lines[1].ID})
	require.Equal(t, "s1", o1.Lines[0].SKU)
	require.True(t, o1.FirstPurchase)
	require.Equal(t, at("2026-01-05 00:00"), items[0].At, "a date is the start of that day in the zone")
	require.Equal(t, "b", items[1].Order.Account)

	_, err = simulate.OrdersCSV(strings.NewReader("id,at,account\n"), time.UTC)
	require.ErrorContains(t, err, "line 1: column type is missing (required: id, at, account, type, payment, product, amount)")
	_, err = simulate.OrdersCSV(strings.NewReader("id,at,account,colour\n"), time.UTC)
	require.ErrorContains(t, err, `line 1: unknown column "colour"`)
	for body, want := range map[string]string{
		"o1,2026-01-05,a,new,subscription,ecs,ten\n":                                       `line 2: amount: "ten" is not a decimal number`,
		"o1,yesterday,a,new,subscription,ecs,1\n":                                          `line 2: at: "yesterday" is not a time`,
		"o1,2026-01-05,a,new,subscription,ecs,1\no1,2026-01-05,b,new,subscription,ecs,1\n": `line 3: order "o1": its rows disagree`,
	} {
		src, err := simulate.OrdersCSV(strings.NewReader("id,at,account,type,payment,product,amount\n"+body), time.UTC)
		require.NoError(t, err)
		_, err = drain(t, src)
		require.ErrorContains(t, err, want, body)
	}
}

// TestSimulateFocusBills runs the sample's AWS bill under aws with the open-source
// credit of the sample's Credit row, from the Go API: the figures match the settle.
func TestSimulateFocusBills(t *testing.T) {
	rs, err := providers.Load("aws")
	require.NoError(t, err)
	m, err := focus.LoadMapping("aws")
	require.NoError(t, err)
	f, err := os.Open("../testdata/focus/focus-1.0-sample.csv")
	require.NoError(t, err)
	defer f.Close()
	res, err := focus.Import(f, focus.Options{RuleSet: rs, Mapping: m, Payer: "391835788720"})
	require.NoError(t, err)
	exp := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	credit := voucher.Instrument{ID: "open-source", Type: "credit", Account: "391835788720", Amount: dec("2.61"), ExpiresAt: &exp}
	rep, err := simulate.Run(context.Background(), simulate.FocusBills(res),
		[]simulate.RuleSet{{Name: "aws", Pricer: engine(t, "aws"), Instruments: []voucher.Instrument{credit}}},
		simulate.Options{Organizations: res.Organizations})
	require.NoError(t, err)
	aws := rep.RuleSets[0]
	require.EqualValues(t, 1, rep.Bills)
	require.Equal(t, "20.63", aws.Totals.List.String())
	require.Equal(t, "2.61", aws.Totals.Deducted.String())
	require.Equal(t, "18.02", aws.Totals.Cash.String())
	require.Equal(t, "0", aws.Unused.String())
	require.Equal(t, []string{"2.61", "0"}, texts(aws.BurnDown.Total))
	require.Equal(t, res.Bills[0].Start, rep.Start)
}

func TestReportJSONAndCSV(t *testing.T) {
	rep := twoRuleSets(t, simulate.Options{})
	var b bytes.Buffer
	require.NoError(t, rep.WriteJSON(&b))
	var back map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	require.Equal(t, "Asia/Shanghai", back["location"])

	b.Reset()
	require.NoError(t, rep.WriteCSV("totals", &b))
	rows, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, []string{"aliyun", "aliyun", "CNY", "3", "4", "1", "170", "0", "130", "40", "40", "130", "180", "50", "0", "0"}, rows[1])

	b.Reset()
	require.NoError(t, rep.WriteCSV("burn_down", &b))
	rows, err = csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+2*3*(1+3), "per rule set: the total and three instruments at three samples")
	require.Equal(t, []string{"aliyun", "v1", "2026-01-31T16:00:00Z", "0"}, rows[5])

	b.Reset()
	require.NoError(t, rep.WriteCSV("changed", &b))
	rows, err = csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"1", "1", "o2", "a", "2026-01-10T02:00:00Z", "tencentcloud", "40", "30"}, rows[2])

	require.ErrorContains(t, rep.WriteCSV("everything", &b), `no CSV table "everything"`)
}
