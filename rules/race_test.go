//go:build race

package rules_test

// raceEnabled: the race detector is on, and makes the big-order tests some thirty times
// slower; they price a tenth of the lines against a tenth of the instruments (CI runs
// go test -race; plain go test runs them whole).
const raceEnabled = true
