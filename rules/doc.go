// Package rules holds rule sets (the YAML schema, strict loading and validation) and the
// Engine that prices orders under one.
//
// Compile once, evaluate many: Parse or Load checks a rule set once into a *RuleSet (pure
// data); NewEngine compiles it into an immutable *Engine; Engine.Quote reads no YAML and
// changes nothing.
//
// The format is declared once, in model.go: each key a field of a file-model struct,
// from which Parse, its "known keys" messages and schema/ruleset.json (Schema) come.
//
// Invariants:
//   - A malformed rule set is refused whole, with every problem reported together as
//     Errors, each naming file, line, column and key path, each wrapping
//     ErrInvalidRuleSet (voucher.ErrorCode: "invalid_rule_set"). Unknown keys are never
//     ignored. A position never depends on an error's text.
//   - Which version applies at a time is decided in one place (inForce), for
//     RuleSet.At and the Engine alike; EffectiveFrom nil means "from the beginning".
//   - The engine knows no provider: everything provider-specific is data in the rule set.
//   - Quote is pure and deterministic: the same order, instruments and time give the same
//     quote, whatever the order of the instruments slice (automatic selection always ends
//     on the instrument id). It is safe for concurrent use.
//   - Amounts are computed exactly in integer units of the rule set's scale, with
//     128-bit intermediates; rounding happens only where the rule set says (line amounts
//     and percentages), by its rounding mode.
//   - No discount or deduction exceeds what is still payable in its scope, an
//     instrument's available balance (balance less holds), or its cap.
package rules
