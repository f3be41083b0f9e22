// Command app is an application built on grantd with nothing but its
// public packages: the Go client (github.com/grantd/grantd/client), the
// connect result verifier (github.com/grantd/grantd/connectresult) and the
// Pax8 client (github.com/grantd/grantd/pax8).
//
// It has three pages:
//
//   - /connect?user=ID&email=E creates a connect session for that user of
//     the application, labelled with the user and the application's tag,
//     and sends the browser to it;
//   - /connected is the session's return_to: it verifies grantd's signed
//     result, lists the application's connections by tag and lists the
//     new connection's Pax8 companies through grantd's proxy;
//   - /companies?connection=ID lists the companies again and, when the
//     connection needs the partner to consent again (needs_reauth), answers
//     with a ReAuthorize link instead.
//
// Pages answer JSON to keep the example short; a real application renders
// its own HTML and knows its user from its session, not from the query.
//
// Run it against a grantd server:
//
//	GRANTD_URL=http://127.0.0.1:8080 GRANTD_API_KEY=gdk_… go run ./examples/app
//
// The server's return_to_allow must include the application's /connected
// URL (APP_URL, default http://127.0.0.1:8090).
package main
