// Package testenv assembles a complete grantd back end for tests: a sandbox
// on loopback, a SQLite store in a temporary directory, a vault keyring,
// a provider registry pointing at the sandbox, a broker, and connections made
// through the real delegated flow (login and consent on the sandbox's forms).
//
// It is imported only by tests. Nothing in it is a mock: every part is the
// production implementation wired to the sandbox.
package testenv
