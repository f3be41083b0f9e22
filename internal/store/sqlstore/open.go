package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/grantd/grantd/internal/store"
)

var _ store.Store = (*DB)(nil)

// DB is a [store.Store] backed by SQLite or PostgreSQL. It is safe for
// concurrent use by many goroutines, and several processes may share one
// database (on SQLite, one file). The caller closes it with [DB.Close].
type DB struct {
	d      dialect
	w      *sql.DB // writes and transactions
	r      *sql.DB // plain reads; the same pool as w on PostgreSQL
	logger *slog.Logger
	now    func() time.Time
	stmts  stmtCache
}

// sqlitePragmas is appended to every SQLite DSN. busy_timeout comes first
// so that the journal_mode change, which needs a lock, already waits.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// sqliteReadPragmas configures the read-only pool.
const sqliteReadPragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)"

// Open connects to the database named by dsn and migrates it to the latest
// schema. A postgres:// or postgresql:// URL selects PostgreSQL (pgx accepts
// runtime parameters such as search_path in the query); anything else is a
// SQLite file path, optionally written as a file: URI, which is created if
// missing (its directory must exist). A nil logger discards logs.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if dsn == "" {
		return nil, errors.New("open store: empty dsn")
	}
	db := &DB{logger: logger, now: time.Now}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.d = postgresDialect
		c, err := stdlib.GetDefaultDriver().(driver.DriverContext).OpenConnector(dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		w := sql.OpenDB(connector{c})
		// Keep the whole pool idle: a burst of callers would otherwise close
		// and reopen connections (a server process each) every time.
		n := max(16, 4*runtime.GOMAXPROCS(0))
		w.SetMaxOpenConns(n)
		w.SetMaxIdleConns(n)
		w.SetConnMaxIdleTime(5 * time.Minute)
		db.w, db.r = w, w
	} else {
		db.d = sqliteDialect
		w, err := sql.Open("sqlite", withParams(dsn, sqlitePragmas))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		// One writer per process: writers queue in the pool rather than
		// spinning in SQLite's busy handler, and no transaction ever has
		// to upgrade a read lock.
		w.SetMaxOpenConns(1)
		w.SetConnMaxIdleTime(0)
		r, err := sql.Open("sqlite", withParams(dsn, sqliteReadPragmas))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
		r.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
		db.w, db.r = w, r
	}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", db.d.name, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// connector opens PostgreSQL connections and marks a failure to reach the
// server with [store.ErrUnavailable], so callers tell a database that is
// down or restarting from one that refused the request. Connections lost
// later are discarded by database/sql (the driver reports them as bad), so
// the next operation opens a new one through here.
type connector struct{ driver.Connector }

// Connect implements [driver.Connector].
func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil && store.Unavailable(err) {
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return conn, err
}

// withParams appends query parameters to a SQLite path or file: URI.
func withParams(dsn, params string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + params
	}
	return dsn + "?" + params
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// SQL returns the pool used for writes, for tests and tools that need to
// inspect or adjust rows directly. On SQLite it has a single connection:
// do not hold it while calling db's methods.
func (db *DB) SQL() *sql.DB { return db.w }

// Close closes both pools.
func (db *DB) Close() error {
	err := errors.Join(db.stmts.close(), db.w.Close())
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// inTx runs fn in a write transaction and commits when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
