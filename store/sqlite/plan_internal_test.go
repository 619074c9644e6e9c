package sqlite

import (
	"context"
	"database/sql/driver"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueryPlans: every read searches an index (never a scan of a table): the account
// reads their account index, Due its partial indexes, each ledger filter its index.
func TestQueryPlans(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	require.NoError(t, err)
	defer db.Close()
	plan := func(q string, args ...any) string {
		qc := db.w.dc.(driver.QueryerContext)
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		rows, err := qc.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, nv)
		require.NoError(t, err)
		defer rows.Close()
		var lines []string
		row := make([]driver.Value, len(rows.Columns()))
		for rows.Next(row) == nil {
			lines = append(lines, row[3].(string))
		}
		return strings.Join(lines, "; ")
	}
	want := map[query]string{
		qAccountInstruments:  "USING INDEX instruments_account (wallet=? AND account=?)",
		qAccountOrders:       "USING INDEX orders_account (wallet=? AND state=? AND account=? AND id>?)",
		qAccountReservations: "USING INDEX orders_account (wallet=? AND state=? AND account=?)",
		qDue:                 "USING INDEX instruments_due (wallet=? AND expires<?)",
		qInstrumentByCode:    "USING INDEX instruments_code (wallet=? AND code=?)",
		qOrder:               "USING INDEX sqlite_autoindex_orders_1 (wallet=? AND id=?)",
		qReservations:        "USING INDEX sqlite_autoindex_orders_1 (wallet=? AND id>?)",
		qInstruments:         "USING PRIMARY KEY (wallet=? AND id>?)",
		qRefund:              "USING PRIMARY KEY (wallet=? AND order_id=? AND key=?)",
		qClock:               "USING PRIMARY KEY (wallet=? AND account=?)",
		qInstrument:          "USING PRIMARY KEY (wallet=? AND id=?)",
		qUpdateInstrument:    "USING PRIMARY KEY (wallet=? AND id=?)",
		qUpdateOrder:         "USING INDEX sqlite_autoindex_orders_1 (wallet=? AND id=?)",
		qDeleteReservation:   "USING INDEX sqlite_autoindex_orders_1 (wallet=? AND id=?)",
	}
	for q, w := range want {
		p := plan(q.sql(), params(q.sql())...)
		assert.NotRegexp(t, `(^|; )SCAN `, p, "%s scans: %s", q.sql(), p)
		assert.Contains(t, p, w, q.sql())
	}
	for k := range entriesKey(entriesKeys) {
		p := plan(k.sql(), params(k.sql())...)
		assert.NotContains(t, p, "SCAN", "entries %05b: %s", k, p)
		switch {
		case k&byOrder != 0:
			assert.Contains(t, p, "ledger_order", "entries %05b", k)
		case k&byInstrument != 0:
			assert.Contains(t, p, "ledger_instrument", "entries %05b", k)
		case k&byAccount != 0:
			assert.Contains(t, p, "ledger_account", "entries %05b", k)
		}
	}
}

// params are as many arguments as sql's highest ?N.
func params(sql string) []any {
	n := 0
	for _, m := range regexp.MustCompile(`\?(\d)`).FindAllStringSubmatch(sql, -1) {
		n = max(n, int(m[1][0]-'0'))
	}
	out := make([]any, n)
	for i := range out {
		out[i] = "x"
	}
	return out
}

func TestTimeKey(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, sh), // year 0 in UTC
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 3, 2, 10, 0, 0, 123456789, sh),
		time.Date(2026, 3, 2, 2, 0, 0, 123456790, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -14*3600)), // year 10000 in UTC
	}
	for i, tm := range times {
		k := timeKey(tm)
		assert.Len(t, k, len(keyLayout)+1, "fixed width: %s", k)
		back, err := parseTimeKey(k)
		require.NoError(t, err, k)
		assert.True(t, back.Equal(tm), "%s reads back as %s, want %s", k, back, tm)
		if i > 0 {
			assert.Less(t, timeKey(times[i-1]), k, "keys sort as the instants")
		}
	}
	assert.Equal(t, "02026-03-02T02:00:00.123456789Z", timeKey(times[3]))
	for _, bad := range []string{"", "2026-03-02T02:00:00.123456789Z", "0202x-03-02T02:00:00.123456789Z", "02026-02-30T02:00:00.123456789Z"} {
		_, err := parseTimeKey(bad)
		assert.Error(t, err, "%q", bad)
	}
}
