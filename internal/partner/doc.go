// Package partner plays a partner's browser against grantd and the sandbox:
// it opens a connect link, presses its button, logs in and consents at the
// sandbox's authorization server, and follows the callback back to grantd.
//
// It is what `grantd demo` and the load harnesses use to create connections
// without a person, so it holds no test-only code (no testing, no httptest):
// package sandboxtest wraps [Login] for tests. Everything here talks HTTP to
// servers given by URL and only follows the redirects it means to.
package partner
