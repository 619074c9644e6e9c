// Package providers holds voucherkit's built-in rule sets as embedded YAML files, one
// per provider (aws, aliyun, ...). They are data only: each is loaded through
// rules.Load, exactly like a user's file, and each file's comments cite the sources of
// its rules (shared/reference/cloud-rules.md rule IDs).
//
// Invariants: every embedded file parses and validates (a test loads them all); the
// scenarios in testdata/ beside them pass; no Go code here or in rules names a provider.
package providers
