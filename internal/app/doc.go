// Package app assembles grantd from its config: store, vault, providers,
// broker, HTTP server, background refresher. It holds no business logic;
// it builds the packages that do and connects them, so that the grantd
// command, the demo and end-to-end tests start the same system.
package app
