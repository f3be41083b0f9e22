// Package oauthx makes OAuth 2.0 token requests in every dialect grantd's
// providers speak and checks what comes back.
//
// [Do] sends one token-endpoint request (RFC 6749 §3.2) form- or
// JSON-encoded, with the client authenticated in the body or with HTTP Basic
// (§2.3.1), or with a partner refresh token as a bearer credential (Daxko).
// It parses the response leniently where vendors differ (expires_in as a
// string, a form-encoded answer) and strictly where safety needs it (token
// type, lifetimes, error responses), and it never retries: a code exchange is
// never sent twice (RFC 9700, SEC-30). Failures are a [*TokenError] when the
// server answered, and can be classified with [IsInvalidGrant],
// [IsTransient] and [IsSentUncertain].
//
// [IDVerifier] verifies OpenID Connect id_tokens (OIDC Core §3.1.3.7 and
// §12.2) on top of go-oidc, adding the checks go-oidc leaves to its caller:
// nonce, azp, iat, at_hash and the refresh-response rules. [FetchUserinfo]
// (which grantd does not call: identity comes from the verified id_token)
// and [CheckDiscovery] cover the userinfo sub check and the discovery issuer
// check. [NewPKCE] and [RandomToken] make the per-flow secrets.
//
// No error, String or log value in this package contains a token, a client
// secret or a response body. Provider text that errors do carry (error,
// error_description, error_uri, an unsupported token_type) has every form
// of every secret of the request replaced by REDACTED: raw, URL-encoded,
// JSON-escaped, Go-quoted and in HTTP Basic credentials; text in which a
// secret survives three layers of decoding is withheld whole.
package oauthx
