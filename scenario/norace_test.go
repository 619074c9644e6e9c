//go:build !race

package scenario

// raceEnabled: see race_test.go.
const raceEnabled = false
