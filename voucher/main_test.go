package voucher_test

import (
	"flag"
	"testing"
)

// fuzzMinimizeTime is how long the fuzzing engine minimizes an input, unless
// -fuzzminimizetime is given.
//
// FuzzWalletSteps' inputs drive tens of wallet steps, each checked against the whole
// wallet, and a byte removed near the start changes every step after it; so the
// engine's default minute of minimizing every input that reaches new code is spent, in
// full, many times a minute while the wallet's many paths are being found: a five-minute
// run did little else (65 executions). A short budget still trims an input's unused
// tail, which is most of what minimizing gains here; a failure's message lists every
// step anyway.
const fuzzMinimizeTime = "2s"

func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.fuzzminimizetime" })
	if !given {
		if err := flag.Set("test.fuzzminimizetime", fuzzMinimizeTime); err != nil {
			panic(err)
		}
	}
	m.Run()
}
