//go:build race

package providers_test

import "time"

// timeBudget is how long a test allows one parse of a large input: the race detector
// slows yaml.v3 down about tenfold.
const timeBudget = 50 * time.Second
