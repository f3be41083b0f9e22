package sqlstore

import (
	"context"
	"fmt"
	"unicode/utf8"
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

// ListMeta returns the values whose keys start with prefix. It compares
// the key's first characters with prefix instead of using LIKE, whose
// wildcards (% and _) would have to be escaped and which SQLite matches
// without regard to ASCII case.
func (db *DB) ListMeta(ctx context.Context, prefix string) (map[string]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT key, value FROM meta WHERE substr(key, 1, $1) = $2`,
		utf8.RuneCountInString(prefix), prefix)
	if err != nil {
		return nil, fmt.Errorf("list meta %s: %w", prefix, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("list meta %s: %w", prefix, err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list meta %s: %w", prefix, err)
	}
	return out, nil
}
