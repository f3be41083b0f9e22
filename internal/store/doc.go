// Package store defines grantd's domain records (tenants, integrations,
// connect sessions, connections, events, org mappings), the sentinel errors
// every backend returns, and the [Store] interface. Backends live in
// subpackages and all pass the conformance suite in storetest.
package store
