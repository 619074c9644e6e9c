package memory_test

import (
	"testing"

	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/store/storetest"
	"github.com/voucherkit/voucherkit/voucher"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) voucher.Store { return memory.New() },
		storetest.Scenarios("../../testdata/conformance/*.yaml", "../../providers/testdata/*/*.yaml"))
}
