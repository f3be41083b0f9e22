// Package tenant creates tenants and their API keys.
//
// An API key is "gdk_" followed by 32 random bytes in unpadded base64url. It
// is shown once, when it is created; the store keeps only its SHA-256 hash
// ([HashKey]) and a short prefix that lets an operator recognise a key in
// lists. Callers authenticate by sending the key, which the API hashes and
// looks up.
package tenant
