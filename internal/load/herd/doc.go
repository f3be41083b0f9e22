// Package herd is `grantd load refresh`, RT-01, RT-02 and RT-06 of the
// security checklist with real processes: N grantd replicas share one
// database, a herd of callers on every replica asks for the same expired
// access token at once, against a strict sandbox (rotation on, reuse
// interval 0), and each round must see exactly one refresh request, no
// reuse, and one token for all callers. The package holds no test code.
package herd
