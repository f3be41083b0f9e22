// Package load is grantd's bounded load generator: a fixed number of
// workers run one operation for a bounded count or time and the latencies
// are summarised (requests per second, p50, p99). It is meant for loopback
// targets only; the benchmarks reported in BENCHMARKS.md are built on it so
// that a system and its baseline are measured by the same generator in the
// same run.
package load
