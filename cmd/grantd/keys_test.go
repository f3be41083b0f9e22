package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/rotate"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/vault"
)

// rewrapConfig writes a dev config using a new SQLite file and returns
// the database and config paths.
func rewrapConfig(t *testing.T) (db, cfgPath string) {
	t.Helper()
	dir := t.TempDir()
	db = filepath.Join(dir, "grantd.db")
	cfgPath = filepath.Join(dir, "grantd.yaml")
	if err := os.WriteFile(cfgPath, []byte("dev: true\ndatabase: "+db+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return db, cfgPath
}

// TestKeysRewrap is ENC-05 from the command line: with key 2 added as
// primary, "keys rewrap" moves the secret sealed under key 1, and a second
// run has nothing left to do.
func TestKeysRewrap(t *testing.T) {
	db, cfgPath := rewrapConfig(t)
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

// TestKeysRewrapChecksReplicasENC05: before resealing, "keys rewrap" reads
// the replica registry. A running replica without the new primary key
// stops it (after the rewrap that replica could open nothing), with an
// error naming the replica; replicas that stopped or went quiet are
// ignored; once every running replica holds the key it proceeds and lists
// them; --force overrides the refusal.
func TestKeysRewrapChecksReplicasENC05(t *testing.T) {
	db, cfgPath := rewrapConfig(t)
	k1, _ := vault.GenerateKey(1)
	k2, _ := vault.GenerateKey(2)
	k3, _ := vault.GenerateKey(3)
	kr1, _ := vault.New([]vault.Key{k1}, 1)
	withStore := func(f func(st store.Store)) {
		t.Helper()
		st, err := sqlstore.Open(t.Context(), db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f(st)
	}
	now := time.Now()
	put := func(owner string, seenAgo time.Duration, stopped bool, keys ...uint32) {
		t.Helper()
		withStore(func(st store.Store) {
			r := rotate.Replica{Owner: owner, KeyIDs: keys, Primary: keys[len(keys)-1], Hostname: "host-" + owner, PID: 4242,
				Version: "v9", StartedAt: now.Add(-time.Hour), SeenAt: time.Now().Add(-seenAgo), Stopped: stopped}
			if err := rotate.PutReplica(t.Context(), st, r); err != nil {
				t.Fatal(err)
			}
		})
	}
	keyOfSecret := func() uint32 {
		t.Helper()
		var id uint32
		withStore(func(st store.Store) {
			in, err := st.GetIntegration(t.Context(), "int_x")
			if err != nil {
				t.Fatal(err)
			}
			if id, err = kr1.KeyID(in.ClientSecret); err != nil {
				t.Fatal(err)
			}
		})
		return id
	}
	withStore(func(st store.Store) {
		ct, _ := kr1.Seal([]byte("client-secret"), vault.AAD("integration", "int_x", "client_secret"))
		if err := st.CreateIntegration(t.Context(), store.Integration{ID: "int_x", Provider: "pax8", Name: "x", ClientID: "c", ClientSecret: ct, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	})
	vars := map[string]string{"GRANTD_VAULT_KEYS": k1.Encode() + "," + k2.Encode(), "GRANTD_ADMIN_KEY": "admin-key-for-the-test-0123456789"}

	// One replica was restarted with key 2, one still runs with key 1 only;
	// a stopped one and one unseen for three minutes have key 1 only too.
	put("new", 5*time.Second, false, 1, 2)
	put("old", 10*time.Second, false, 1)
	put("stopped", time.Second, true, 1)
	put("stale", 3*time.Minute, false, 1)
	code, stdout, stderr := runCmd(t, vars, "keys", "rewrap", "--config", cfgPath)
	if code != 1 {
		t.Fatalf("keys rewrap with a running replica lacking key 2 = exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"refusing to rewrap", "replica old on host host-old (pid 4242, version v9) seen 1", "s ago, holding keys [1]", "key 2", "restart", "--force"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("refusal %q does not contain %q", stderr, want)
		}
	}
	for _, notWant := range []string{"replica new", "replica stopped", "replica stale"} {
		if strings.Contains(stderr, notWant) {
			t.Errorf("refusal %q names %q, which holds the key or is not running", stderr, notWant)
		}
	}
	if id := keyOfSecret(); id != 1 {
		t.Errorf("after the refusal the secret is under key %d, want 1 (untouched)", id)
	}

	// The old replica is restarted with key 2: its record is marked
	// stopped and the new process records itself.
	put("old", 0, true, 1)
	put("old-restarted", 0, false, 1, 2)
	code, stdout, stderr = runCmd(t, vars, "keys", "rewrap", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("keys rewrap with every running replica holding key 2 = exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"resealed 1 values", "2 running replica(s) (3 stopped or not seen for 2m0s ignored)", "REPLICA", "new", "host-old-restarted", "[1 2]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output %q does not contain %q", stdout, want)
		}
	}
	if id := keyOfSecret(); id != 2 {
		t.Errorf("after the rewrap the secret is under key %d, want 2", id)
	}

	// Key 3 is made primary while the replicas hold keys 1 and 2: refused,
	// unless forced.
	vars["GRANTD_VAULT_KEYS"] = k1.Encode() + "," + k2.Encode() + "," + k3.Encode()
	if code, _, stderr := runCmd(t, vars, "keys", "rewrap", "--json", "--config", cfgPath); code != 1 || !strings.Contains(stderr, "key 3") {
		t.Fatalf("keys rewrap to key 3 = exit %d, %s; want a refusal naming key 3", code, stderr)
	}
	code, stdout, stderr = runCmd(t, vars, "keys", "rewrap", "--json", "--force", "--config", cfgPath)
	var got struct {
		Resealed int  `json:"resealed"`
		Forced   bool `json:"forced"`
		Replicas []struct {
			Owner      string   `json:"owner"`
			KeyIDs     []uint32 `json:"key_ids"`
			Live       bool     `json:"live"`
			HasPrimary bool     `json:"has_primary"`
			Hostname   string   `json:"hostname"`
		} `json:"replicas"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil {
		t.Fatalf("keys rewrap --force = exit %d, %q %s", code, stdout, stderr)
	}
	if got.Resealed != 1 || !got.Forced || len(got.Replicas) != 2 {
		t.Errorf("keys rewrap --force = %+v, want 1 resealed, forced, 2 running replicas", got)
	}
	for _, r := range got.Replicas {
		if !r.Live || r.HasPrimary || len(r.KeyIDs) != 2 || r.Hostname != "host-"+r.Owner {
			t.Errorf("replica in JSON = %+v, want live, holding keys 1 and 2 but not 3", r)
		}
	}
	if !strings.Contains(stderr, "warning: --force") || !strings.Contains(stderr, "replica new") {
		t.Errorf("stderr %q, want a warning naming the replicas without key 3", stderr)
	}
	if id := keyOfSecret(); id != 3 {
		t.Errorf("after the forced rewrap the secret is under key %d, want 3", id)
	}
}
