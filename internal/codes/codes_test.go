package codes_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/voucherkit/voucherkit/internal/codes"
	"github.com/voucherkit/voucherkit/voucher"
)

func TestSentinel(t *testing.T) {
	s := codes.New("invalid_thing", "invalid thing")
	wrapped := fmt.Errorf("reading x: %w", s)
	if !errors.Is(wrapped, s) {
		t.Fatal("errors.Is must find the sentinel")
	}
	if got := voucher.ErrorCode(wrapped); got != "invalid_thing" {
		t.Fatalf("ErrorCode = %q", got)
	}
	if s.Error() != "invalid thing" {
		t.Fatalf("Error() = %q: no package prefix", s.Error())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an empty code must panic")
		}
	}()
	codes.New("", "x")
}
