package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// The webhook outbox (migration 006): one row per event and endpoint, from
// the moment the event is emitted until it is delivered or fails.

const deliveryCols = `id, endpoint, event_id, event_type, payload, state, attempts,
	next_attempt_at, last_error, lease_owner, lease_expires_at, created_at, finished_at, tenant_id`

func scanDelivery(row scanner) (store.Delivery, error) {
	var (
		d       store.Delivery
		payload string
		state   string
	)
	err := row.Scan(&d.ID, &d.Endpoint, &d.EventID, &d.EventType, &payload, &state, &d.Attempts,
		timeCol{&d.NextAttemptAt}, &d.LastError, &d.LeaseOwner, timeCol{&d.LeaseExpiresAt},
		timeCol{&d.CreatedAt}, timeCol{&d.FinishedAt}, &d.TenantID)
	if err != nil {
		return store.Delivery{}, err
	}
	d.Payload = []byte(payload)
	d.State = store.DeliveryState(state)
	return d, nil
}

// EnqueueDeliveries adds ds as pending deliveries in one transaction. A
// zero CreatedAt is the current time and a zero NextAttemptAt is
// CreatedAt. A delivery whose ID is already stored is skipped (INSERT … ON
// CONFLICT DO NOTHING); it returns how many were added.
func (db *DB) EnqueueDeliveries(ctx context.Context, ds []store.Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	for _, d := range ds {
		if d.ID == "" || d.Endpoint == "" || d.EventType == "" {
			return 0, fmt.Errorf("enqueue delivery %q: id, endpoint and event type are required", d.ID)
		}
	}
	added := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		added = 0
		for _, d := range ds {
			created := db.createdAt(d.CreatedAt)
			next := normTime(d.NextAttemptAt)
			if next.IsZero() {
				next = created
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, endpoint, event_id,
	event_type, payload, state, attempts, next_attempt_at, last_error, lease_owner, created_at, tenant_id)
	VALUES ($1, $2, $3, $4, $5, $6, 0, $7, '', '', $8, $9) ON CONFLICT (id) DO NOTHING`,
				d.ID, d.Endpoint, d.EventID, d.EventType, string(d.Payload), string(store.DeliveryPending),
				db.d.timeArg(next), db.d.timeArg(created), d.TenantID)
			if err != nil {
				return insertErr("delivery "+d.ID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// ClaimDeliveries leases up to limit due deliveries of endpoints to owner
// until the given time and adds one to their attempts, in one conditional
// UPDATE … RETURNING (the pattern of AcquireLease). The rows are picked
// once, in a materialized CTE: as a plain IN (subquery) PostgreSQL may
// rescan the subquery for every row it updates, and its LIMIT would then
// apply per rescan. On PostgreSQL they are picked FOR UPDATE SKIP LOCKED,
// so concurrent claimers take disjoint rows instead of queueing behind
// each other; the outer WHERE repeats the conditions, so a row claimed
// meanwhile is never taken twice.
// On SQLite the statement runs under the database write lock. A read on
// the read pool first skips the write when nothing is due, which is the
// common case of a poll.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, endpoints []string, now, until time.Time, limit int) ([]store.Delivery, error) {
	if owner == "" {
		return nil, errors.New("claim deliveries: empty owner")
	}
	if limit <= 0 || len(endpoints) == 0 {
		return nil, nil
	}
	// $1 is now; the endpoints follow the fixed arguments.
	due := func(first int, args []any) (string, []any) {
		ph := make([]string, len(endpoints))
		for i, e := range endpoints {
			ph[i] = "$" + strconv.Itoa(first+i)
			args = append(args, e)
		}
		return `state = 'pending' AND next_attempt_at <= $1
	AND (lease_owner = '' OR lease_expires_at < $1)
	AND endpoint IN (` + strings.Join(ph, ", ") + `)`, args
	}
	nowArg := db.d.timeArg(now)
	cond, args := due(2, []any{nowArg})
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM webhook_deliveries WHERE `+cond+` LIMIT 1`, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}

	lock := ""
	if db.d.forUpdate != "" {
		lock = db.d.forUpdate + " SKIP LOCKED"
	}
	cond, args = due(5, []any{nowArg, owner, db.d.timeArg(until), limit})
	rows, err := db.w.QueryContext(ctx, `WITH due AS MATERIALIZED (
		SELECT id FROM webhook_deliveries WHERE `+cond+`
		ORDER BY next_attempt_at, created_at, id LIMIT $4`+lock+`)
	UPDATE webhook_deliveries
	SET lease_owner = $2, lease_expires_at = $3, attempts = attempts + 1
	WHERE id IN (SELECT id FROM due)
	AND state = 'pending' AND (lease_owner = '' OR lease_expires_at < $1)
	RETURNING `+deliveryCols, args...)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer rows.Close()
	var ds []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	// RETURNING follows no ORDER BY.
	slices.SortFunc(ds, func(a, b store.Delivery) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ds, nil
}

// MarkDelivered records that delivery id was delivered at now, whoever
// holds its lease; a delivery already delivered keeps its first time.
func (db *DB) MarkDelivered(ctx context.Context, id string, now time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE webhook_deliveries
	SET state = $2, finished_at = $3, lease_owner = '', lease_expires_at = NULL
	WHERE id = $1 AND state <> $2`, id, string(store.DeliveryDelivered), db.d.timeArg(now))
	if err != nil {
		return fmt.Errorf("mark delivery %s delivered: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		if err != nil {
			return fmt.Errorf("mark delivery %s delivered: %w", id, err)
		}
		return nil
	}
	if _, err := db.GetDelivery(ctx, id); err != nil {
		return fmt.Errorf("mark delivered: %w", err)
	}
	return nil
}

// RetryDelivery makes owner's pending delivery due again at next.
func (db *DB) RetryDelivery(ctx context.Context, id, owner string, next time.Time, lastError string) error {
	return db.settle(ctx, "retry delivery "+id, owner, `UPDATE webhook_deliveries
	SET next_attempt_at = $3, last_error = $4, lease_owner = '', lease_expires_at = NULL
	WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
		id, owner, db.d.timeArg(next), lastError)
}

// FailDelivery marks owner's pending delivery failed at now.
func (db *DB) FailDelivery(ctx context.Context, id, owner string, now time.Time, lastError string) error {
	return db.settle(ctx, "fail delivery "+id, owner, `UPDATE webhook_deliveries
	SET state = $5, finished_at = $3, last_error = $4, lease_owner = '', lease_expires_at = NULL
	WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
		id, owner, db.d.timeArg(now), lastError, string(store.DeliveryFailed))
}

// settle runs a write conditioned on owner's lease ($1 id, $2 owner): no
// row changed is [store.ErrConflict] when the delivery exists and
// [store.ErrNotFound] otherwise.
func (db *DB) settle(ctx context.Context, op, owner, query string, args ...any) error {
	if owner == "" {
		return fmt.Errorf("%s: empty owner", op)
	}
	res, err := db.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := db.GetDelivery(ctx, args[0].(string)); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: lease not held by %s: %w", op, owner, store.ErrConflict)
}

// GetDelivery returns the delivery with that id, or [store.ErrNotFound].
func (db *DB) GetDelivery(ctx context.Context, id string) (store.Delivery, error) {
	d, err := scanDelivery(db.r.QueryRowContext(ctx,
		`SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, id))
	if err != nil {
		return store.Delivery{}, readErr("get delivery "+id, err)
	}
	return d, nil
}

// CountDeliveries returns the number of deliveries in state.
func (db *DB) CountDeliveries(ctx context.Context, state store.DeliveryState) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE state = $1`,
		string(state)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s deliveries: %w", state, err)
	}
	return n, nil
}

// PruneDeliveries deletes the deliveries finished before before, and the
// pending ones created before it whose lease, if any, had lapsed by then.
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM webhook_deliveries
	WHERE (state IN ($2, $3) AND finished_at < $1)
	OR (state = $4 AND created_at < $1 AND (lease_owner = '' OR lease_expires_at < $1))`,
		db.d.timeArg(before), string(store.DeliveryDelivered), string(store.DeliveryFailed),
		string(store.DeliveryPending))
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	return int(n), nil
}
