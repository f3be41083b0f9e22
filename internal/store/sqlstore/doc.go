// Package sqlstore implements [store.Store] on database/sql for two engines:
// SQLite (modernc.org/sqlite, the embedded default) and PostgreSQL
// (github.com/jackc/pgx/v5). Both engines run the same hand-written queries
// with $N placeholders; the few genuine differences (column types in the
// migrations, FOR UPDATE, time encoding, the migration lock) live in a small
// dialect value rather than in query rewriting.
//
// [Open] picks the engine from the DSN, applies the embedded migrations under
// a lock that is safe when several processes start at once, and returns a
// ready [*DB]. On SQLite every write goes through a single connection that
// begins transactions with BEGIN IMMEDIATE, and reads go through a separate
// read-only pool, so writers queue inside the process instead of failing
// with SQLITE_BUSY, while busy_timeout arbitrates between processes sharing
// one file.
package sqlstore
