// Command grantd is a broker for delegated OAuth2 API access: it runs the
// connect flow with each vendor's dialect, keeps grants alive in an
// encrypted vault, and hands out valid access tokens. Run "grantd help" for
// its subcommands (serve, sandbox, demo, connect, connections, token,
// refresh, events, disconnect, integrations, keys, tenants, load, pax8, …)
// and its exit statuses. This package only parses flags and wires: the
// server is package app, the API calls go through the public client
// (github.com/grantd/grantd/client), the demo is package demo, and the load
// harnesses are under internal/load. It links no test code
// (TestBinaryDeps).
package main
