// Package notify delivers connection events (connected, needs_reauth,
// reauth_due, deleted, …) to the application's webhooks, at least once,
// through a durable outbox in the store.
//
// A [Sender] is fed by the broker's OnEvent hook through [Sender.Notify],
// which writes one delivery per subscribed [Endpoint] to the outbox (the
// webhook_deliveries table, [store.Store.EnqueueDeliveries]) in one short
// transaction, bounded by Options.EnqueueTimeout, and returns. From then on
// the delivery survives crashes and restarts. [Sender.Run], on every
// replica, claims due deliveries with a lease ([store.Store.ClaimDeliveries]:
// one conditional UPDATE, so two replicas never post the same delivery at
// the same time), posts them, and records the outcome: delivered, failed,
// or due again after a backoff. A claim whose replica died mid-attempt is
// taken over by another once its lease lapses. Delivered and failed rows
// are pruned after Options.Retention (7 days).
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
// clock (five minutes is usual) to stop replays. The body is stored in the
// outbox as posted; the signature is computed at each attempt, with the
// endpoint's current secret, which is never stored (nor is the endpoint's
// URL: its rows are keyed by a hash of it).
//
// A 2xx answer delivers. Network errors, timeouts (10 s), 408, 425, 429 and
// 5xx are retried with exponential backoff and jitter for three days by
// default, as Stripe does (Options.RetryFor; 30 s doubling up to 6 h, each
// delay less a random part of up to 30 %), waiting at least as long as a
// Retry-After header asks, so that a receiver that is down over a weekend
// loses nothing. Redirects are never followed and, like other 4xx answers,
// fail the delivery at once. A failed delivery can be sent again by hand
// (the API's POST /v1/webhook-deliveries/{id}/redeliver), which makes it
// pending and due at once; it keeps its id.
//
// Each delivery records the tenant whose event it carries, so a tenant
// lists and redelivers its own (GET /v1/webhook-deliveries).
//
// Delivery is at least once: a replica that dies after the receiver
// answered but before the outcome is recorded leaves a claim that another
// replica takes over and posts again, with the same Grantd-Delivery id, so
// receivers deduplicate by that header. Under normal operation each
// delivery is posted once, whatever the number of replicas.
//
// The broker stores the event (store.AddEvent) and then calls OnEvent, in
// two writes. The deliveries of a stored event have ids derived from the
// event and the endpoint (payload "evt_<event id>"), so writing them again
// adds nothing; Run does so for the events of the last day at start and
// for the last half hour every ten minutes, which recovers the webhooks of
// an event whose process died between the two writes, or whose outbox
// write failed (the database was down or slower than EnqueueTimeout: Notify
// then logs an error and counts the deliveries as dropped). An endpoint is
// never sent events from before it first appeared in the config.
package notify
