// Package httpapi is the HTTP edge kit every JSON route of grantd uses, in
// the style of tailscale's tsweb: handlers return errors ([HandlerFunc]),
// and one adapter ([Adapter.Wrap], [WriteError]) decides what the client
// sees, logs the internal cause once and counts the request per route and
// status ([Metrics]).
//
// Every error a client can see is an [Error] with a registered [Code]
// ([Codes] lists them with their statuses and meanings; the OpenAPI
// document's error schema enumerates the same codes, and a test keeps the
// two equal), sent as
//
//	{"error":{"code":"<code>","message":"<safe text>","field"?,"details"?,"upstream"?}}
//
// The internal cause (Error.Err, or any other error) is logged and never
// sent; every 5xx has a generic message.
//
// Request bodies are decoded strictly ([Decode], [Unmarshal]):
// application/json or no Content-Type (else 415), a size limit (else 413),
// exactly one JSON value, no unknown, duplicate or wrongly cased member
// names, no invalid UTF-8 and no NUL in any string (400 each, with a
// [Detail] naming the field by JSON Pointer). The decoder is
// github.com/go-json-experiment/json, the encoding/json/v2 candidate:
// encoding/json matches member names case-insensitively, keeps the last of
// duplicate names and silently replaces invalid UTF-8, with no option to
// refuse any of it, and a hand-written token pass would have to know each
// target type's field names to catch wrong case. v2 refuses all three by
// default; a token pass with its jsontext package adds the NUL check for
// every string whatever type it decodes into. Path wildcards get the same
// NUL and UTF-8 check ([CheckPathValues]) before the handler runs, so ids
// that SQLite would store and PostgreSQL would refuse get one 400 on both.
//
// Callers are identified by an [Authenticator] per route; the API's
// tenant and admin keys implement it (package api), and the [Principal]
// it returns is in the request's [RequestInfo].
package httpapi
