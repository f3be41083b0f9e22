// Package notify delivers connection events (connected, needs_reauth,
// reauth_due, deleted, …) to the application's webhooks.
//
// A [Sender] is fed by the broker's OnEvent hook through [Sender.Notify],
// which never blocks: each event becomes one delivery per subscribed
// [Endpoint] in a bounded in-memory queue, and [Sender.Run] posts them in
// the background. When the queue is full the oldest delivery is dropped,
// logged and counted.
//
// A delivery is a JSON POST of a [Payload] (never a token) with the headers
//
//	Content-Type: application/json
//	Grantd-Event: <type>
//	Grantd-Delivery: <delivery id, the same on every retry of one delivery>
//	Grantd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The signature follows Stripe's scheme: the receiver recomputes the HMAC
// over the timestamp, a dot and the raw body with the endpoint's secret,
// compares it in constant time, and rejects timestamps too far from its
// clock (five minutes is usual) to stop replays.
//
// A 2xx answer delivers. Network errors, timeouts (10 s), 408, 425, 429 and
// 5xx are retried with exponential backoff (1 s doubling, five attempts by
// default), waiting at least as long as a Retry-After header asks. Redirects
// are never followed and, like other 4xx answers, fail the delivery at once.
//
// Events are emitted by the replica where the change happened, so each
// event is delivered once, not once per replica. Deliveries queued in
// memory are lost if the process dies; receivers that must not miss a
// change can reconcile with GET /v1/connections/{id}/events.
package notify
