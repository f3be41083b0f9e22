// Package sandbox emulates vendor authorization servers and APIs, offline and
// faithfully, with switches that make them misbehave.
//
// A [Server] serves one personality per provider under its own issuer URL.
// The pax8 personality behaves like Pax8's Auth0 tenant (login.pax8.com): the
// /authorize endpoint with its mandatory audience parameter, HTML login and
// consent pages, the /oauth/token endpoint accepting JSON and form bodies
// (Pax8's documented /pax8-api/v1/token takes JSON only, 415 for a form),
// refresh-token families with rotation, reuse detection and a reuse interval,
// absolute and idle lifetimes on a sandbox clock, /userinfo, JWKS and OpenID
// discovery. The emulated Pax8 partner REST API (package pax8api) is mounted
// behind a bearer-token check at /pax8-api/v1.
//
// The paxful personality (issuer /paxful) is Paxful's delegated access:
// form-only token requests, 1 h access tokens, refresh tokens rotated on
// every use with reuse detection, userinfo with the SDK's profile fields,
// and an RPC-style API at /paxful-api/paxful/v1/ answering in Paxful's
// envelope, 401 on expiry and 403 without the operation's scope. The daxko
// personality (base /daxko) is Daxko's partner authentication: the
// partner's refresh token as bearer at /daxko/v3/partners/oauth2/token
// yields an access token for one Daxko client, which the API at /daxko/v3
// checks.
//
// Tests, `grantd demo` and users drive the sandbox through its Go API or its
// control API under /_sandbox/ (no authentication: a test tool):
//
//   - GET /_sandbox/stats, POST /_sandbox/stats/reset: counters per
//     provider, exact under concurrency ([Stats]): token requests by
//     grant type and outcome (the 429s of the rate limit as
//     "too_many_requests", and in token_rate_limited), refresh-token
//     reuses detected, families revoked, API calls by status.
//   - GET, POST, DELETE /_sandbox/faults: faults that make the next
//     responses fail in a named way ([Fault], [FaultKinds]), optionally for
//     one grant_type only. An "outage" fails an endpoint (503 by default)
//     for a window of the sandbox clock instead of a number of requests:
//     {"kind":"outage","endpoint":"token","duration":"10m"} lasts from the
//     sandbox's now until now+10m. "echo_request" and "echo_token_type"
//     quote the raw request body, secrets included, in provider text, for
//     tests that such text never reaches logs or callers.
//     "server_error_after" and "drop_after" on the api endpoint apply the
//     next write (create_order, create_company, update_subscription,
//     cancel_subscription) and then answer 500 or drop the connection.
//   - GET, POST /_sandbox/clock: the sandbox clock, moved by
//     {"advance":"1h"}; lifetimes and outages run on it.
//   - POST /_sandbox/clients, POST /_sandbox/daxko/partners: registrations.
//   - GET, POST /_sandbox/settings: a provider's [Settings], including the
//     token endpoint's capacity: token_latency (a delay before every
//     answer) and token_rate_limit with token_rate_burst (a token bucket in
//     real time; beyond it Auth0's 429 too_many_requests with
//     Retry-After), and the API's: rate_limited (every call 429) and
//     api_rate_limit with api_rate_burst, answered with Pax8's 429 "Too
//     many requests hit the API quickly".
//   - GET /_sandbox/pax8/discrepancies?partner=, POST with {"partner"}:
//     the invoice discrepancies seeded in a partner's data (POST seeds
//     them), the expected answer of a reconciliation.
//   - POST /_sandbox/grants: mints up to [MaxBulkGrants] refresh-token
//     grants at once, as if each had gone through consent, for load tests
//     ([BulkGrants], [Server.MintGrants]); the answer is a JSON array of
//     [MintedGrant], or NDJSON with ?format=ndjson.
//
// A Server is safe for concurrent use.
package sandbox
