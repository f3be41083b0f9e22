// Package demo runs the whole system on loopback for `grantd demo` and the
// load commands: the Pax8 sandbox, grantd in dev mode on SQLite pointed at
// it, one tenant and a connect link. [Demo.RunHeadless] then plays the
// partner (package partner) and uses the connection through the public
// client, as an application would. The package holds no test code.
package demo
