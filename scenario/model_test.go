package scenario

import (
	"reflect"
	"testing"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// Every key of a wallet entry reaches voucher.Instrument through a field of the same
// name and type (yamlx.Assign), except those the parser gives a meaning of its own:
// adding a key to the instrument format is a field in instrumentFile, and this test.
func TestInstrumentKeysReachTheDomain(t *testing.T) {
	own := map[string]bool{"Status": true, "Account": true} // pending_activation; the owner rules
	ft, it := reflect.TypeFor[instrumentFile](), reflect.TypeFor[voucher.Instrument]()
	for i := range ft.NumField() {
		f := ft.Field(i)
		if own[f.Name] {
			continue
		}
		to, ok := it.FieldByName(f.Name)
		if !ok {
			t.Errorf("instrumentFile.%s (key %s) has no field of voucher.Instrument to land in", f.Name, f.Tag.Get("yaml"))
			continue
		}
		if !f.Type.AssignableTo(to.Type) && !(f.Type.Kind() == reflect.Pointer && f.Type.Elem().AssignableTo(to.Type)) {
			t.Errorf("instrumentFile.%s is %s, voucher.Instrument.%s is %s", f.Name, f.Type, f.Name, to.Type)
		}
	}
	if got := len(yamlx.Fields(instrumentFile{})); got != ft.NumField() {
		t.Errorf("every field of instrumentFile is a key: %d keys, %d fields", got, ft.NumField())
	}
}
