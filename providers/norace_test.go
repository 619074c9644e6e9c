//go:build !race

package providers_test

import "time"

// timeBudget is how long a test allows one parse of a large input (it takes well under
// a second).
const timeBudget = 5 * time.Second
