// Package api serves grantd's JSON HTTP API under /v1.
//
// Callers authenticate with "Authorization: Bearer <key>". A tenant API key
// (see package tenant) acts as its tenant; the operator's admin key may call
// the admin routes and, with the X-Grantd-Tenant header, act as any tenant.
// Tenant keys are looked up by SHA-256 hash and the result is kept in memory
// for a few seconds, so the token endpoint's hot path reads no database.
// Failed authentications (401) are limited per client address, found by
// package clientip, which trusts X-Forwarded-For only from configured
// proxies (SEC-53): once an address has used up its failures, its requests
// to authenticated routes are answered 429 with Retry-After, before their
// key is looked at, until a failure is regained ([Options.AuthFailureBurst]).
//
// Routes are served by package httpapi: handlers return errors (type
// [HandlerFunc]); one adapter, [httpapi.WriteError], turns them into the
// single error shape
//
//	{"error":{"code":"<stable code>","message":"<safe message>"}}
//
// with a code from httpapi's registry, and logs the internal cause once.
// Bodies are decoded strictly ([httpapi.Decode]). The tenant and admin keys
// are the routes' [httpapi.Authenticator]. A tenant that asks for another tenant's
// connection gets the same 404 as for an id that does not exist (SEC-43).
//
// The routes are described by the OpenAPI 3.1 document served at
// GET /v1/openapi.json, written by hand in openapi.yaml.
package api
