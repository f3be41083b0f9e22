package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/vault"
)

// TestKeysRewrap is ENC-05 from the command line: with key 2 added as
// primary, "keys rewrap" moves the secret sealed under key 1, and a second
// run has nothing left to do.
func TestKeysRewrap(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "grantd.db")
	cfgPath := filepath.Join(dir, "grantd.yaml")
	if err := os.WriteFile(cfgPath, []byte("dev: true\ndatabase: "+db+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k1, _ := vault.GenerateKey(1)
	k2, _ := vault.GenerateKey(2)
	kr1, _ := vault.New([]vault.Key{k1}, 1)
	st, err := sqlstore.Open(t.Context(), db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := kr1.Seal([]byte("client-secret"), vault.AAD("integration", "int_x", "client_secret"))
	now := time.Now()
	if err := st.CreateIntegration(t.Context(), store.Integration{ID: "int_x", Provider: "pax8", Name: "x", ClientID: "c", ClientSecret: ct, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	vars := map[string]string{"GRANTD_VAULT_KEYS": k1.Encode() + "," + k2.Encode(), "GRANTD_ADMIN_KEY": "admin-key-for-the-test-0123456789"}
	for i, want := range []int{1, 0} {
		code, stdout, stderr := runCmd(t, vars, "keys", "rewrap", "--json", "--config", cfgPath)
		var got struct {
			Resealed int            `json:"resealed"`
			After    map[string]int `json:"after"`
			Done     bool           `json:"done"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil {
			t.Fatalf("run %d: keys rewrap = exit %d, %q %s", i, code, stdout, stderr)
		}
		if got.Resealed != want || !got.Done || got.After["2"] != 1 || got.After["1"] != 0 {
			t.Errorf("run %d: %+v, want %d resealed, 1 value under key 2", i, got, want)
		}
	}
}
