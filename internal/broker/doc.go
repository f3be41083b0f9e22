// Package broker runs the grant lifecycle: connect links and sessions, the
// authorization callback, and Token, which returns a valid access token for a
// connection and refreshes it when needed, exactly once across callers and
// replicas.
//
// The invariants it keeps (DESIGN.md):
//   - a refresh token is used at most once per rotation, by one process: an
//     in-process single flight plus a lease in the database that names its
//     owner, and a version column so that a stale writer never overwrites a
//     newer grant;
//   - a rotated refresh token is stored, sealed, in the same transaction as
//     the access token it came with, before anything is returned;
//   - invalid_grant is not proof of revocation: the row is re-read and a newer
//     grant adopted before the connection is marked needs_reauth;
//   - transient failures never change a connection's status; they back off.
package broker
