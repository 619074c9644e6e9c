package voucher_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

// A money error quotes at most a short, escaped excerpt of what it could not read.
func TestMoneyErrorsQuoteAnExcerpt(t *testing.T) {
	huge := strings.Repeat("9", 7<<20)
	x40 := `"` + strings.Repeat("9", 40) + `"…`
	_, err := voucher.ParseDecimal(huge)
	assert.EqualError(t, err, "voucher: invalid money: amount "+x40+" is longer than 64 characters")
	_, err = voucher.ParseMoney(huge, voucher.Currency{})
	assert.EqualError(t, err, "voucher: invalid money: no currency for "+x40)
	_, err = voucher.NewCurrency("C\nNY"+huge, 2)
	assert.EqualError(t, err, `voucher: invalid money: currency code "C\nNY`+strings.Repeat("9", 36)+`"… is not three upper-case letters`)
	_, err = voucher.ParseDecimal("12.5\x1b[2J")
	assert.EqualError(t, err, `voucher: invalid money: "12.5\x1b[2J" is not a decimal number`)

	var m voucher.Money
	err = json.Unmarshal([]byte(`{"amount": "1", "currency": "`+strings.Repeat("X", 1<<20)+`"}`), &m)
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 120, err.Error())
}
