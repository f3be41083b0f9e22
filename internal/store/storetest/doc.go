// Package storetest is the conformance suite every [store.Store] backend
// must pass, in the style of dex's storage/conformance: [Run] takes a
// constructor and exercises CRUD, the sentinel errors, time round-trips,
// single-use connect sessions, optimistic versioning, leases, refresh
// queries and concurrent updates. It also provides fresh databases for
// other packages' tests: [NewSQLite] and [NewPostgres], the latter gated by
// [PostgresURL] on the GRANTD_TEST_POSTGRES environment variable.
package storetest
