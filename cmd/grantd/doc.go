// Command grantd is a broker for delegated OAuth2 API access: it runs the
// connect flow with each vendor's dialect, keeps grants alive in an
// encrypted vault, and hands out valid access tokens. Run "grantd help" for
// its subcommands (serve, sandbox, demo, connect, connections, token, keys,
// tenants, load, pax8, …); the wiring lives in package app.
package main
