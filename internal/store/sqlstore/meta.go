package sqlstore

import (
	"context"
	"fmt"
)

// GetMeta returns the value stored under key or [store.ErrNotFound].
func (db *DB) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if err != nil {
		return "", readErr("get meta "+key, err)
	}
	return v, nil
}

// PutMeta stores value under key, replacing any previous value.
func (db *DB) PutMeta(ctx context.Context, key, value string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("put meta %s: %w", key, err)
	}
	return nil
}
