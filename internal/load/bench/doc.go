// Package bench is `grantd load token` and `grantd load proxy`: grantd's
// token endpoint and proxy measured against a baseline in the same run
// (a bare net/http handler with the same body; the sandbox API called
// directly), on loopback, round by round with the order alternated
// (BENCHMARKS.md). The package holds no test code.
package bench
