// Package providers holds voucherkit's built-in rule sets as embedded YAML files, one
// per provider (aws, aliyun, ...). They are data only: each is loaded through
// rules.Load, exactly like a user's file, and each file's comments tag its rules with
// identifiers that docs/providers.md explains, with their public sources.
//
// Lookup is the one resolver of a provider name or rule-set path (the CLI's --provider,
// a scenario's provider:); a name that is neither a built-in nor a path, and a name
// Load or Source does not know, is an error wrapping ErrUnknown.
//
// focus/NAME.yaml is the FOCUS mapping of rule set NAME (which billing-export rows are
// that provider's and which of its products each is); package focus parses it.
//
// Invariants: every embedded file parses and validates (a test loads them all; the
// mappings are loaded by package focus's tests); the scenarios in testdata/ beside them
// pass; no Go code here or in rules names a provider.
package providers
