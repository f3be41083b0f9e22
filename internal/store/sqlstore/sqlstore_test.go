package sqlstore_test

import (
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
)

func open(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), dsn, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return db
}

// TestSQLite runs the conformance suite on SQLite (ENC-07: the same suite
// on both engines).
func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db := open(t, storetest.NewSQLite(t))
		if got := db.Dialect(); got != "sqlite" {
			t.Fatalf("Dialect() = %q, want sqlite", got)
		}
		return db
	})
}

// TestPostgres runs the conformance suite on PostgreSQL (ENC-07).
func TestPostgres(t *testing.T) {
	storetest.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		db := open(t, storetest.NewPostgres(t))
		if got := db.Dialect(); got != "postgres" {
			t.Fatalf("Dialect() = %q, want postgres", got)
		}
		return db
	})
}

// TestSQLiteFileURI accepts a file: URI as well as a plain path.
func TestSQLiteFileURI(t *testing.T) {
	path := storetest.NewSQLite(t)
	db := open(t, "file:"+path)
	if err := db.PutMeta(t.Context(), "k", "v"); err != nil {
		t.Fatalf("PutMeta = %v", err)
	}
	db2 := open(t, path)
	if got, err := db2.GetMeta(t.Context(), "k"); err != nil || got != "v" {
		t.Errorf("GetMeta via plain path = %q, %v; want v", got, err)
	}
}

// TestReopenKeepsData checks that migrations are applied once and data
// survives reopening.
func TestReopenKeepsData(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t, dsn)
			if err := db.CreateTenant(t.Context(), store.Tenant{ID: "t1", Name: "Acme"}); err != nil {
				t.Fatalf("CreateTenant = %v", err)
			}
			db.Close()
			db = open(t, dsn)
			if _, err := db.GetTenant(t.Context(), "t1"); err != nil {
				t.Errorf("GetTenant after reopen = %v", err)
			}
			var n int
			if err := db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != migrationCount(t, name) {
				t.Errorf("schema_migrations rows = %d, %v; want %d", n, err, migrationCount(t, name))
			}
		})
	}
}

// dsns returns a fresh SQLite path, and a fresh PostgreSQL schema when
// GRANTD_TEST_POSTGRES is set (or CI requires it).
func dsns(t *testing.T) map[string]string {
	m := map[string]string{"sqlite": storetest.NewSQLite(t)}
	if os.Getenv("GRANTD_TEST_POSTGRES") != "" || os.Getenv("CI") == "true" {
		m["postgres"] = storetest.NewPostgres(t)
	}
	return m
}

// TestConcurrentOpen starts several stores on one fresh database at once,
// as replicas or processes starting together do: the migration lock lets
// every Open succeed and the schema is applied once.
func TestConcurrentOpen(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			const n = 4
			dbs := make([]*sqlstore.DB, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					dbs[i], errs[i] = sqlstore.Open(t.Context(), dsn, slog.New(slog.NewTextHandler(t.Output(), nil)))
				})
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Errorf("Open #%d = %v", i, errs[i])
					continue
				}
				defer dbs[i].Close()
			}
			if t.Failed() {
				return
			}
			var got int
			if err := dbs[0].SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&got); err != nil || got != migrationCount(t, name) {
				t.Errorf("schema_migrations rows = %d, %v; want %d", got, err, migrationCount(t, name))
			}
		})
	}
}

// TestOpenErrors reports bad DSNs instead of returning a broken store.
func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{"", t.TempDir() + "/missing-dir/grantd.db"} {
		if db, err := sqlstore.Open(t.Context(), dsn, nil); err == nil {
			db.Close()
			t.Errorf("Open(%q) = nil error, want one", dsn)
		}
	}
}
