package fixed

import (
	"math"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMulDivRounding(t *testing.T) {
	cases := []struct {
		name    string
		a, b, c int64
		mode    Mode
		want    int64
	}{
		{"15% of 33.33 half away", 3333, 15, 100, HalfAwayFromZero, 500}, // 499.95 -> 500
		{"exact", 1000, 10, 100, HalfAwayFromZero, 100},
		{"half away rounds .5 up", 5, 1, 2, HalfAwayFromZero, 3},
		{"half even rounds 2.5 to 2", 5, 1, 2, HalfEven, 2},
		{"half even rounds 3.5 to 4", 7, 1, 2, HalfEven, 4},
		{"half even below half", 24, 1, 10, HalfEven, 2},
		{"down truncates", 1999, 1, 1000, Down, 1},
		{"up rounds any remainder", 1001, 1, 1000, Up, 2},
		{"up keeps exact", 1000, 1, 1000, Up, 1},
		{"below half", 4, 1, 10, HalfAwayFromZero, 0},
		{"128-bit intermediate", math.MaxInt64 / 2, 4, 8, Down, math.MaxInt64 / 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := MulDiv(tc.a, tc.b, tc.c, tc.mode)
			require.True(t, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMulDivRefusesBadInput(t *testing.T) {
	for _, in := range [][3]int64{{-1, 1, 1}, {1, -1, 1}, {1, 1, 0}, {math.MaxInt64, math.MaxInt64, 1}} {
		_, ok := MulDiv(in[0], in[1], in[2], Down)
		assert.False(t, ok, "%v", in)
	}
}

func TestProportional(t *testing.T) {
	cases := []struct {
		name    string
		amount  int64
		weights []int64
		want    []int64
	}{
		{"100 over three equal lines", 10000, []int64{1, 1, 1}, []int64{3334, 3333, 3333}},
		{"tie goes to earlier line", 2, []int64{1, 1, 1}, []int64{1, 1, 0}},
		{"largest remainder wins", 10, []int64{1, 2}, []int64{3, 7}},
		{"tencent 90 over 100 and 200", 9000, []int64{10000, 20000}, []int64{3000, 6000}},
		{"zero weight gets nothing", 500, []int64{0, 100}, []int64{0, 500}},
		{"whole amount", 300, []int64{100, 200}, []int64{100, 200}},
		{"many lines", 1, []int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []int64{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]int64, len(tc.weights))
			require.True(t, Proportional(tc.amount, tc.weights, out))
			assert.Equal(t, tc.want, out)
		})
	}
}

func TestProportionalRefusesBadInput(t *testing.T) {
	assert.False(t, Proportional(1, []int64{0, 0}, make([]int64, 2)))
	assert.False(t, Proportional(-1, []int64{1}, make([]int64, 1)))
	assert.False(t, Proportional(1, []int64{-1, 2}, make([]int64, 2)))
	assert.False(t, Proportional(1, []int64{1}, make([]int64, 2)))
	assert.True(t, Proportional(0, []int64{0, 0}, make([]int64, 2)))
}

func TestFromDecimal(t *testing.T) {
	cases := []struct {
		in   string
		mode Mode
		want int64
		ok   bool
	}{
		{"12.5", HalfAwayFromZero, 1250, true},
		{"12.50", HalfAwayFromZero, 1250, true},
		{"-3", HalfAwayFromZero, -300, true},
		{"0.005", HalfAwayFromZero, 1, true},
		{"0.005", HalfEven, 0, true},
		{"0.015", HalfEven, 2, true},
		{"0.019", Down, 1, true},
		{"0.011", Up, 2, true},
		{"1e3", HalfAwayFromZero, 100000, true},
		{"10000000000000", HalfAwayFromZero, 1000000000000000, true},
		{"10000000000001", HalfAwayFromZero, 0, false},
		{"1e999", HalfAwayFromZero, 0, false},
		{"1e-999", HalfAwayFromZero, 0, false},
		{"123456789012345678901234", HalfAwayFromZero, 0, false},
		{"0", HalfAwayFromZero, 0, true},
	}
	for _, tc := range cases {
		d := decimal.RequireFromString(tc.in)
		got, ok := FromDecimal(d, 2, tc.mode)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	assert.Equal(t, "12.34", ToDecimal(1234, 2).String())
	assert.True(t, ToDecimal(0, 2).IsZero())
}
