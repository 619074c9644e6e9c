package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/voucher"
)

// Diff returns what differs between want and got as a store must keep a value, one
// line per difference with its path ("Instrument.ExpiresAt: want ..., got ..."), or ""
// when nothing does:
//   - a time.Time by its instant, to the nanosecond (Equal): the zone may change;
//   - a decimal.Decimal and a voucher.Money by value (Equal: "12.50" equals "12.5"),
//     a Money's currency with its scale too;
//   - a pointer by whether it is nil, then by what it points to;
//   - a slice or a map element by element; a nil one and an empty one are equal,
//     except for a slice field whose JSON tag says omitzero: there nil means "not
//     given" and empty means "none" (RefundRequest.Lines, Order.Use, Instrument's
//     scope and order/payment types), so they must stay apart;
//   - anything else with ==, field by field (unexported fields included).
func Diff(want, got any) string {
	var d differ
	d.walk("", reflect.ValueOf(want), reflect.ValueOf(got), false)
	return strings.Join(d.out, "\n")
}

type differ struct{ out []string }

var (
	timeType    = reflect.TypeFor[time.Time]()
	decimalType = reflect.TypeFor[decimal.Decimal]()
	moneyType   = reflect.TypeFor[voucher.Money]()
)

func (d *differ) add(path, format string, a ...any) {
	if path == "" {
		path = "value"
	}
	d.out = append(d.out, path+": "+fmt.Sprintf(format, a...))
}

// walk compares w and g at path; strictNil: a nil and an empty slice differ.
func (d *differ) walk(path string, w, g reflect.Value, strictNil bool) {
	if !w.IsValid() || !g.IsValid() {
		if w.IsValid() != g.IsValid() {
			d.add(path, "want %v, got %v", w, g)
		}
		return
	}
	if w.Type() != g.Type() {
		d.add(path, "want a %s, got a %s", w.Type(), g.Type())
		return
	}
	switch w.Type() {
	case timeType:
		wt, gt := w.Interface().(time.Time), g.Interface().(time.Time)
		if !wt.Equal(gt) {
			d.add(path, "want %s, got %s (%s apart)", wt.Format(time.RFC3339Nano), gt.Format(time.RFC3339Nano), gt.Sub(wt))
		}
		return
	case decimalType:
		wd, gd := w.Interface().(decimal.Decimal), g.Interface().(decimal.Decimal)
		if !wd.Equal(gd) {
			d.add(path, "want %s, got %s", wd, gd)
		}
		return
	case moneyType:
		wm, gm := w.Interface().(voucher.Money), g.Interface().(voucher.Money)
		if !wm.Equal(gm) || wm.Currency() != gm.Currency() {
			d.add(path, "want %s (scale %d), got %s (scale %d)", wm, wm.Currency().Scale(), gm, gm.Currency().Scale())
		}
		return
	}
	d.walkKind(path, w, g, strictNil)
}

func (d *differ) walkKind(path string, w, g reflect.Value, strictNil bool) {
	switch w.Kind() {
	case reflect.Pointer, reflect.Interface:
		if w.IsNil() || g.IsNil() {
			if w.IsNil() != g.IsNil() {
				d.add(path, "want %s, got %s", nilness(w), nilness(g))
			}
			return
		}
		d.walk(path, w.Elem(), g.Elem(), false)
	case reflect.Struct:
		for i := range w.NumField() {
			f := w.Type().Field(i)
			strict := strings.Contains(f.Tag.Get("json"), "omitzero") && f.Type.Kind() == reflect.Slice
			d.walk(join(path, f.Name), w.Field(i), g.Field(i), strict)
		}
	case reflect.Slice, reflect.Array:
		if w.Kind() == reflect.Slice && strictNil && w.IsNil() != g.IsNil() {
			d.add(path, "want %s, got %s", nilness(w), nilness(g))
			return
		}
		if w.Len() != g.Len() {
			d.add(path, "want %d elements %v, got %d %v", w.Len(), w, g.Len(), g)
			return
		}
		for i := range w.Len() {
			d.walk(fmt.Sprintf("%s[%d]", path, i), w.Index(i), g.Index(i), false)
		}
	case reflect.Map:
		d.walkMap(path, w, g)
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		d.add(path, "cannot compare a %s", w.Kind())
	default:
		if !scalarEqual(w, g) {
			d.add(path, "want %v, got %v", w, g)
		}
	}
}

func (d *differ) walkMap(path string, w, g reflect.Value) {
	keys := map[string]reflect.Value{}
	for _, m := range []reflect.Value{w, g} {
		for _, k := range m.MapKeys() {
			keys[fmt.Sprint(k)] = k
		}
	}
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		k := keys[n]
		wv, gv := w.MapIndex(k), g.MapIndex(k)
		p := fmt.Sprintf("%s[%s]", path, n)
		switch {
		case !wv.IsValid():
			d.add(p, "not wanted, got %v", gv)
		case !gv.IsValid():
			d.add(p, "want %v, missing", wv)
		default:
			d.walk(p, wv, gv, false)
		}
	}
}

func scalarEqual(w, g reflect.Value) bool {
	switch w.Kind() {
	case reflect.Bool:
		return w.Bool() == g.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return w.Int() == g.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return w.Uint() == g.Uint()
	case reflect.Float32, reflect.Float64:
		return w.Float() == g.Float()
	case reflect.Complex64, reflect.Complex128:
		return w.Complex() == g.Complex()
	case reflect.String:
		return w.String() == g.String()
	}
	return false
}

func nilness(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	if v.Kind() == reflect.Slice {
		return fmt.Sprintf("a non-nil slice of %d", v.Len())
	}
	return "non-nil"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
