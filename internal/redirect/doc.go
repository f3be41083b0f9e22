// Package redirect decides whether a URL is safe to send a browser to after
// a connect flow: only allow-listed application URLs pass, so grantd is
// never an open redirector (RFC 9700 §4.11.1, checklist SEC-09).
package redirect
