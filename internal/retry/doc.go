// Package retry is grantd's one backoff schedule and its one Retry-After
// parser: the broker's refresh backoff, the webhook outbox and the Pax8
// client all wait as [Backoff] says, and read a server's Retry-After with
// [ParseRetryAfter].
package retry
