package sqlstore_test

import (
	"os"
	"testing"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
)

// benchDSNs returns SQLite always and PostgreSQL when GRANTD_TEST_POSTGRES
// is set.
func benchDSNs(b *testing.B) map[string]func(b *testing.B) string {
	m := map[string]func(b *testing.B) string{
		"sqlite": func(b *testing.B) string { return storetest.NewSQLite(b) },
	}
	if os.Getenv("GRANTD_TEST_POSTGRES") != "" {
		m["postgres"] = func(b *testing.B) string { return storetest.NewPostgres(b) }
	}
	return m
}

func benchConnection(b *testing.B, dsn string) store.Store {
	db, err := sqlstore.Open(b.Context(), dsn, nil)
	if err != nil {
		b.Fatalf("Open = %v", err)
	}
	b.Cleanup(func() { db.Close() })
	c := store.Connection{ID: "c1", TenantID: "t1", Status: store.StatusActive,
		AccessToken: store.Sealed(make([]byte, 900)), RefreshToken: store.Sealed(make([]byte, 120)),
		Scopes: []string{"Manage:Pax8Data", "openid", "offline_access"}}
	if err = db.CreateConnection(b.Context(), c); err != nil {
		b.Fatalf("CreateConnection = %v", err)
	}
	return db
}

func BenchmarkGetConnection(b *testing.B) {
	for name, dsn := range benchDSNs(b) {
		b.Run(name, func(b *testing.B) {
			s := benchConnection(b, dsn(b))
			for b.Loop() {
				if _, err := s.GetConnection(b.Context(), "c1"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			s := benchConnection(b, dsn(b))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.GetConnection(b.Context(), "c1"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkUpdateConnection(b *testing.B) {
	for name, dsn := range benchDSNs(b) {
		b.Run(name, func(b *testing.B) {
			s := benchConnection(b, dsn(b))
			for b.Loop() {
				if _, err := s.UpdateConnection(b.Context(), "c1", func(c store.Connection) (store.Connection, error) {
					c.FailureCount++
					return c, nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
