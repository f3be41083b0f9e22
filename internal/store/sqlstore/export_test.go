package sqlstore

// ClaimDueSQL is ClaimDue's statement on db ($1 now, $2 owner, $3 the
// lease end, $4 the limit), for the plan tests.
func ClaimDueSQL(db *DB) string { return claimDueSQL(db.d) }

// NextRefreshDueSQL is NextRefreshDue's query on db ($1 now).
func NextRefreshDueSQL(db *DB) string { return nextRefreshDueSQL(db.d) }
