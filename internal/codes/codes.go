// Package codes makes sentinel errors that carry a stable snake_case code, for the
// packages whose errors are not voucher's (scenario files, rule sets, providers).
// voucher.ErrorCode reads the code of any error that wraps one.
//
// Invariants: a Sentinel's code is fixed at creation and never empty; its text has no
// package prefix, so that a program can print it after its own.
package codes

// Sentinel is an error value with a code; compare with errors.Is.
type Sentinel struct {
	code, text string
}

// New returns a sentinel with code ("invalid_scenario") and text.
func New(code, text string) *Sentinel {
	if code == "" {
		panic("codes: empty code")
	}
	return &Sentinel{code: code, text: text}
}

func (s *Sentinel) Error() string { return s.text }

// Code is the stable snake_case code.
func (s *Sentinel) Code() string { return s.code }
