package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"
)

// migrationCount is the number of migration files of the dialect ("sqlite"
// or "postgres"): a fresh database records one schema_migrations row each.
func migrationCount(t *testing.T, dialect string) int {
	t.Helper()
	es, err := os.ReadDir(filepath.Join("migrations", dialect))
	if err != nil {
		t.Fatalf("read migrations: %v", err)
	}
	return len(es)
}

// TestMigrationsPaired checks that every migration exists for both engines,
// so neither schema falls behind.
func TestMigrationsPaired(t *testing.T) {
	names := func(d string) []string {
		es, err := os.ReadDir(filepath.Join("migrations", d))
		if err != nil {
			t.Fatalf("read migrations: %v", err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	sq, pg := names("sqlite"), names("postgres")
	if len(sq) != len(pg) {
		t.Fatalf("migrations: sqlite has %v, postgres has %v", sq, pg)
	}
	for i := range sq {
		if sq[i] != pg[i] {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, sq[i], pg[i])
		}
	}
}
