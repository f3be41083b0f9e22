// Package sandboxtest starts a [sandbox.Server] for tests and plays the
// partner through its login and consent pages over plain HTTP.
package sandboxtest
