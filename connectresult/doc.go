// Package connectresult signs and verifies the result of a connect flow:
// the query parameters grantd adds to a connect session's return_to when
// the user comes back to the application.
//
// grantd appends connection_id, outcome (connected, reauthorized, denied
// or error), error (the stable error code, on failure), session_id,
// issued_at (Unix seconds) and signature, an HMAC-SHA256 over all of them
// under the tenant's result key. The application verifies the signature
// with [Verifier.Verify] before it trusts any of them; session_id lets it
// refuse a replay, and issued_at a stale result.
//
// The tenant's result key is [DeriveKey] of grantd's result secret (the
// GRANTD_CONNECT_RESULT_SECRET environment variable) and the tenant id,
// or, where grantd derives its secret from the vault, the value of
// GET /v1/connect-result-key. This package imports nothing from grantd,
// so an application can import it alone.
package connectresult
