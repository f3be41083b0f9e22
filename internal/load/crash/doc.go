// Package crash is `grantd load crash`, RT-04 and RT-09 of the security
// checklist with real processes: replica A, a grantd built with the
// failpoint tag, is killed with SIGKILL at a failpoint inside a refresh (or
// stopped with SIGSTOP while its refresh is in flight), and replica B, on
// the same database, must settle the connection: recovered, or flagged
// needs_reauth, never a second send of a consumed refresh token.
//
// [Run] takes checked [Options] and returns a [Report]; the command in
// cmd/grantd only parses flags and prints. The package holds no test code.
package crash
