// Package grantd holds repository-wide policy tests. grantd itself is the
// command in cmd/grantd; its packages live under internal/, and the public
// Pax8 client under pax8/, and the public client of grantd's own API under
// client/.
package grantd
