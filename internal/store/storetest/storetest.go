package storetest

import (
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for NewPostgres

	"github.com/grantd/grantd/internal/store"
)

// Run runs the conformance suite. newStore must return an empty store for
// each call and arrange for it to be closed, e.g. with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tenants", testTenants},
		{"APIKeys", testAPIKeys},
		{"Integrations", testIntegrations},
		{"UpdateIntegration", testUpdateIntegration},
		{"IntegrationTenantScope", testIntegrationTenantScope},
		{"ConnectLinks", testConnectLinks},
		{"ConnectSessions", testConnectSessions},
		{"ConsumeConnectSessionConcurrent", testConsumeConnectSessionConcurrent},
		{"DeleteExpired", testDeleteExpired},
		{"Connections", testConnections},
		{"TimeRoundTrip", testTimeRoundTrip},
		{"ListConnections", testListConnections},
		{"UpdateConnection", testUpdateConnection},
		{"UpdateConnectionStale", testUpdateConnectionStale},
		{"UpdateConnectionFuncError", testUpdateConnectionFuncError},
		{"Leases", testLeases},
		{"LeaseConcurrent", testLeaseConcurrent},
		{"RefreshJournal", testRefreshJournal},
		{"JournalRefresh", testJournalRefresh},
		{"DueForReauthNotice", testDueForReauthNotice},
		{"DeleteConnection", testDeleteConnection},
		{"Events", testEvents},
		{"OrgMappings", testOrgMappings},
		{"Organizations", testOrganizations},
		{"MappingLinks", testMappingLinks},
		{"Meta", testMeta},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"Deliveries", testDeliveries},
		{"PruneDeliveries", testPruneDeliveries},
		{"ClaimDeliveriesConcurrent", testClaimDeliveriesConcurrent},
		{"IntegrationTenants", testIntegrationTenants},
		{"APIKeyLifecycle", testAPIKeyLifecycle},
		{"SpendConnectLink", testSpendConnectLink},
		{"Idempotency", testIdempotency},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"CountConnectLinks", testCountConnectLinks},
		{"DeleteTenant", testDeleteTenant},
		{"IntegrationBroken", testIntegrationBroken},
		{"DeleteIntegration", testDeleteIntegration},
		{"ListDeliveries", testListDeliveries},
		{"CountConnections", testCountConnections},
		{"EndUserFilter", testEndUserFilter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
	t.Run("ClaimDue", func(t *testing.T) {
		for _, tc := range claimDueTests {
			t.Run(tc.name, func(t *testing.T) {
				tc.fn(t, newStore(t))
			})
		}
	})
}

// PostgresURL returns the PostgreSQL URL in GRANTD_TEST_POSTGRES. When it
// is unset the test is skipped, except under CI=true, where it fails: CI
// provides PostgreSQL and must exercise it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("GRANTD_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("GRANTD_TEST_POSTGRES must be set in CI")
		}
		t.Skip("GRANTD_TEST_POSTGRES is not set")
	}
	return u
}

// NewPostgres creates a fresh schema in the database named by
// [PostgresURL] and returns a DSN whose search_path selects it, so tests
// and packages can run in parallel against one server. The schema is
// dropped when the test ends (after cleanups registered later, such as
// closing the store, have run).
func NewPostgres(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse GRANTD_TEST_POSTGRES: %v", err)
	}
	// Lower case, so the name needs no quoting in psql.
	schema := "grantd_test_" + strings.ToLower(rand.Text()[:16])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA "`+schema+`"`); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("open postgres: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.Exec(`DROP SCHEMA "` + schema + `" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// NewSQLite returns the path of a new SQLite file in t.TempDir().
func NewSQLite(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "grantd.db")
}

// cmpOpts treats nil and empty slices alike; time.Time compares with Equal.
var cmpOpts = cmp.Options{cmpopts.EquateEmpty()}

// base is a fixed instant with sub-microsecond digits, in a non-UTC zone,
// so that every round-trip test also checks normalisation.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

// at returns base+d as a store keeps it: UTC, truncated to the microsecond.
func at(d time.Duration) time.Time {
	return base.Add(d).UTC().Truncate(time.Microsecond)
}

// norm is what a store returns for a written time.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
