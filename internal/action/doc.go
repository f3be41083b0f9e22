// Package action is grantd's catalogue of named, typed operations on a
// provider's API, such as pax8.list_companies or pax8.update_subscription,
// callable over HTTP (POST /v1/connections/{id}/actions/{name}), from the
// CLI (grantd pax8 …) and from Go ([Runner.Run]).
//
// Each [Action] is defined by a Go function over the public pax8 client,
// with an input struct and an output type; its JSON Schemas are reflected
// from those types ([Schema]), so the catalogue served at GET /v1/actions
// cannot drift from what the action accepts and returns.
//
// Input is decoded strictly (unknown fields and wrong types are refused) and
// validated (required fields, bounds such as size 1..200 and page ≥ 0)
// before any upstream request. List actions take page and size, or
// all: true, which walks every page with the client's iterator, 200 items a
// page and a few pages in flight, up to [MaxAllItems] items; a longer list is
// cut there and marked truncated.
//
// Write actions take an idempotency key ([Runner.RunKeyed]): kept per
// tenant in the store with a hash of the request and, once done, the
// answer, so a retried write happens at most once; a duplicate in flight
// (on any replica) waits for the first under a lease in the database, and
// a write whose answer was lost is looked for at Pax8 before it is sent
// again (see the look functions in look.go).
//
// Requests go through [upstream.Transport], which attaches the connection's
// token and, on a 401, forces one refresh and retries once: the same rule,
// in the same code, as the proxy.
package action
