// Package sandbox emulates vendor authorization servers and APIs, offline and
// faithfully, with switches that make them misbehave.
//
// A [Server] serves one personality per provider under its own issuer URL.
// The pax8 personality behaves like Pax8's Auth0 tenant (login.pax8.com): the
// /authorize endpoint with its mandatory audience parameter, HTML login and
// consent pages, the /oauth/token endpoint accepting JSON and form bodies,
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
// control API under /_sandbox/: statistics (exact under concurrency), faults
// that make the next responses fail in a named way (see [Fault]), the clock,
// clients and settings.
//
// A Server is safe for concurrent use.
package sandbox
