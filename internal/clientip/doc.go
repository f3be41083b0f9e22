// Package clientip resolves the address of the client behind an HTTP
// request when grantd may run behind TLS-terminating reverse proxies.
//
// A request's X-Forwarded-For header is a claim made by whoever sent it,
// so it is believed only as far as it was written by proxies the operator
// has configured as trusted (RFC 9700 §4.13): a [Resolver] takes the TCP
// peer as the client unless the peer is a trusted proxy, and only then
// walks X-Forwarded-For from the right, skipping trusted proxies, to the
// first address that is not one. A malformed entry ends the walk at the
// last trusted hop, whose own address is then the client's. The zero
// Resolver trusts nobody.
//
// The package resolves addresses only. grantd builds every URL it hands
// out (connect links, redirect URIs) from its configured public URL and
// never from Host, X-Forwarded-Host, X-Forwarded-Proto or Forwarded, so
// those headers are read by nobody, whoever sent them.
package clientip
