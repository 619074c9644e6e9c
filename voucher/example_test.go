package voucher_test

import (
	"errors"
	"fmt"

	"github.com/voucherkit/voucherkit/voucher"
)

// Money is exact, in one currency, at the currency's scale; zero in a currency is set,
// Money{} is unset.
func ExampleMoney() {
	cny := voucher.MustCurrency("CNY")
	price, _ := voucher.ParseMoney("499.5", cny)
	off, _ := voucher.ParseMoney("20", cny)
	pay, err := price.Sub(off)
	if err != nil {
		panic(err)
	}
	fmt.Println(pay, pay.IsPositive())
	units, ok := pay.Units()
	fmt.Println(units, ok)
	zero := voucher.MustMoney("0", "CNY")
	fmt.Println(zero.IsZero(), zero.IsUnset(), voucher.Money{}.IsUnset())
	_, err = voucher.ParseMoney("1.005", cny)
	fmt.Println(voucher.ErrorCode(err))
	// Output:
	// 479.50 CNY true
	// 47950 true
	// true false true
	// invalid_money
}

// ErrorCode reads the stable code of any error voucherkit returns; errors.Is matches
// the sentinel.
func ExampleErrorCode() {
	o := voucher.Order{ID: "o1", Type: "neww", Payment: voucher.PaySubscription}
	err := o.Validate()
	fmt.Println(voucher.ErrorCode(err), errors.Is(err, voucher.ErrInvalidOrder))
	var ve *voucher.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// invalid_order true
	// type: unknown order type "neww"; want one of new, renewal, upgrade, os_change, trial_conversion, usage
	// items: must not be empty
}
