// Package vault seals secrets at rest with AES-256-GCM under a keyring of
// numbered keys.
//
// Every ciphertext carries the id of the key that sealed it, so keys can be
// rotated online: a new primary key seals new values while older keys keep
// opening old ones, and [Keyring.Rewrap] moves a value to the primary. Every
// value is bound to the row and field that hold it by associated data built
// with [AAD], so a ciphertext copied to another row or column does not open
// (security checklist SEC-63, ENC-04).
//
// The format of a sealed value is
//
//	version (1 byte, 0x01) | key id (4 bytes, big endian) | nonce (12) | ciphertext | tag (16)
//
// The version and key id are authenticated too: they are prepended to the
// caller's associated data.
//
// A [Keyring] also computes a [Keyring.Fingerprint], a value that is safe to
// store beside the data and that [Keyring.Check] compares at start-up, so a
// server given the wrong key refuses to start instead of failing on every
// read or, worse, sealing new data under a key that cannot open the old
// (ENC-06).
package vault
