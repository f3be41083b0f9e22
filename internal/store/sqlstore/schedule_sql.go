package sqlstore

// RefreshScheduleSQL returns the refresh scheduler's two statements on
// db, as they run: ClaimDue's ($1 now, $2 owner, $3 the lease end, $4 the
// limit) and NextRefreshDue's ($1 now). `grantd load idle` shows their
// plans.
func (db *DB) RefreshScheduleSQL() (claim, nextDue string) {
	return claimDueSQL(db.d), nextRefreshDueSQL(db.d)
}
