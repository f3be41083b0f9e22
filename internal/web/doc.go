// Package web serves grantd's browser pages: the connect page a tenant's
// user opens from a connect link, the button that starts the provider's
// authorization, and the OAuth callback that finishes it.
//
// Pages are server-rendered with html/template from embedded files, need no
// JavaScript and load nothing from third parties. Every page is sent with a
// strict Content-Security-Policy, X-Frame-Options: DENY and
// Referrer-Policy: no-referrer; the callback's responses also carry
// Cache-Control: no-store and never put the code or a token in a later URL
// (RFC 9700 §4.2.4, SEC-10). The start button is a same-origin form POST
// guarded by [http.CrossOriginProtection]; it binds the authorization to the
// browser with the HttpOnly grantd_flow cookie (SEC-01).
package web
