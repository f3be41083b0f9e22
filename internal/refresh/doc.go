// Package refresh runs grantd's background work: it refreshes access tokens
// ahead of expiry so callers rarely wait, keeps idle grants alive before
// their inactivity lifetime ends (Pax8: 30 days), sends "reauth_due"
// notices before a grant's absolute lifetime ends (Pax8: one year; by
// default 30 and 7 days ahead), and purges expired connect sessions. All refreshes go through the broker, so they obey the
// same single-refresh invariants as callers.
package refresh
