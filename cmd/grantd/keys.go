package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/grantd/grantd/internal/rotate"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/vault"
)

func cmdKeys(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "rewrap" {
		return keysRewrap(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "generate" {
		return usagef("want \"keys generate\" or \"keys rewrap\"")
	}
	fs := newFlags(e, "keys generate")
	id := fs.Uint("id", 1, "key id (a positive integer, unique in the keyring)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *id == 0 || *id > math.MaxUint32 {
		return usagef("--id must be between 1 and %d", uint32(math.MaxUint32))
	}
	k, err := vault.GenerateKey(uint32(*id))
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"id": k.ID, "key": k.Encode(), "env": "GRANTD_VAULT_KEYS"})
	}
	fmt.Fprintln(e.stdout, k.Encode())
	fmt.Fprintf(e.stderr, "\nKeep this key secret and give it to grantd in the environment:\n"+
		"  export GRANTD_VAULT_KEYS='<the key printed above>'\n"+
		"To rotate, append a new key with a higher id (GRANTD_VAULT_KEYS='1:…,2:…');\n"+
		"losing every key loses every stored grant.\n")
	return nil
}

// keysRewrap reseals every stored secret under the primary vault key, the
// last step of a rotation (ENC-05).
func keysRewrap(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys rewrap")
	cf := addConfigFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	cfg, logger, err := cf.load(e)
	if err != nil {
		return err
	}
	kr, err := vault.New(cfg.Vault.Keys, cfg.Vault.Primary)
	if err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, cfg.Database, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	before, err := rotate.Inventory(ctx, st, kr)
	if err != nil {
		return err
	}
	rep, err := rotate.Rewrap(ctx, st, kr)
	if err != nil {
		return fmt.Errorf("rewrap stopped after resealing %d values (run it again to finish): %w", rep.Resealed, err)
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"before": before, "after": rep.ByKey, "resealed": rep.Resealed, "primary": rep.Primary, "done": rep.Done()})
	}
	fmt.Fprintf(e.stdout, "primary key %d; resealed %d values\n", rep.Primary, rep.Resealed)
	tbl := newTable(e.stdout, "KEY", "BEFORE", "AFTER")
	ids := map[uint32]bool{}
	for id := range before {
		ids[id] = true
	}
	for id := range rep.ByKey {
		ids[id] = true
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		tbl.row(fmt.Sprint(id), fmt.Sprint(before[id]), fmt.Sprint(rep.ByKey[id]))
	}
	if err := tbl.flush(); err != nil {
		return err
	}
	if rep.Done() {
		fmt.Fprintf(e.stderr, "\nEverything is under key %d. Older keys can be removed from GRANTD_VAULT_KEYS\n"+
			"once connect flows started before the switch have finished (10 minutes).\n", rep.Primary)
	}
	return nil
}
