package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/grantd/grantd/internal/rotate"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/table"
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
// last step of a rotation (ENC-05). It first checks the replica registry
// and refuses while a running replica does not hold the primary key, which
// would leave that replica unable to open anything; --force overrides.
func keysRewrap(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys rewrap")
	cf := addConfigFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	force := fs.Bool("force", false, "rewrap even when a running replica does not hold the primary key (it will fail every request that needs a sealed value until restarted with the key)")
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
	replicas, err := checkReplicas(ctx, e, st, kr.Primary(), time.Now(), *force)
	if err != nil {
		return err
	}
	before, err := rotate.Inventory(ctx, st, kr)
	if err != nil {
		return err
	}
	rep, err := rotate.Rewrap(ctx, st, kr)
	if err != nil {
		return fmt.Errorf("rewrap stopped after resealing %d values (run it again to finish): %w", rep.Resealed, err)
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"before": before, "after": rep.ByKey, "resealed": rep.Resealed, "primary": rep.Primary, "done": rep.Done(),
			"replicas": live(replicas), "forced": *force})
	}
	fmt.Fprintf(e.stdout, "primary key %d; resealed %d values\n", rep.Primary, rep.Resealed)
	tbl := table.New(e.stdout, "KEY", "BEFORE", "AFTER")
	ids := map[uint32]bool{}
	for id := range before {
		ids[id] = true
	}
	for id := range rep.ByKey {
		ids[id] = true
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		tbl.Row(fmt.Sprint(id), fmt.Sprint(before[id]), fmt.Sprint(rep.ByKey[id]))
	}
	if err := tbl.Flush(); err != nil {
		return err
	}
	if err := printReplicas(e, replicas, rep.Primary); err != nil {
		return err
	}
	if rep.Done() {
		fmt.Fprintf(e.stderr, "\nEverything is under key %d. Older keys can be removed from GRANTD_VAULT_KEYS\n"+
			"once connect flows started before the switch have finished (10 minutes).\n", rep.Primary)
	}
	return nil
}

// checkReplicas runs the replica check before a rewrap under primary and
// returns every recorded replica. It refuses when a live replica does not
// hold primary, or when the registry cannot be read, unless force is set,
// in which case it warns on stderr and lets the rewrap go on.
func checkReplicas(ctx context.Context, e *env, st store.Store, primary uint32, now time.Time, force bool) ([]rotate.ReplicaStatus, error) {
	replicas, err := rotate.CheckReplicas(ctx, st, primary, now, rotate.ReplicaStaleAfter)
	if err == nil {
		return replicas, nil
	}
	_, missing := errors.AsType[*rotate.MissingKeyError](err)
	if !force {
		if missing {
			return nil, fmt.Errorf("refusing to rewrap: %w; or pass --force to rewrap anyway", err)
		}
		return nil, fmt.Errorf("refusing to rewrap: cannot check the running replicas: %w; pass --force to rewrap without the check", err)
	}
	fmt.Fprintf(e.stderr, "grantd keys rewrap: warning: --force: rewrapping although %v\n", err)
	return replicas, nil
}

// live returns the replicas found running.
func live(rs []rotate.ReplicaStatus) []rotate.ReplicaStatus {
	out := []rotate.ReplicaStatus{}
	for _, r := range rs {
		if r.Live {
			out = append(out, r)
		}
	}
	return out
}

// printReplicas lists the running replicas and their keys, and says how
// many recorded ones were left out as stopped or gone.
func printReplicas(e *env, rs []rotate.ReplicaStatus, primary uint32) error {
	running := live(rs)
	fmt.Fprintf(e.stdout, "\n%d running replica(s)", len(running))
	if n := len(rs) - len(running); n > 0 {
		fmt.Fprintf(e.stdout, " (%d stopped or not seen for %s ignored)", n, rotate.ReplicaStaleAfter)
	}
	fmt.Fprintln(e.stdout)
	if len(running) == 0 {
		return nil
	}
	tbl := table.New(e.stdout, "REPLICA", "HOST", "PID", "VERSION", "KEYS", "PRIMARY", "SEEN")
	for _, r := range running {
		tbl.Row(r.Owner, r.Hostname, fmt.Sprint(r.PID), r.Version, rotate.FormatKeyIDs(r.KeyIDs), fmt.Sprint(r.Primary),
			fmt.Sprintf("%ds ago", r.SeenAgoSeconds))
	}
	if err := tbl.Flush(); err != nil {
		return err
	}
	for _, r := range running {
		if r.HasPrimary && r.Primary != primary {
			fmt.Fprintf(e.stderr, "\nReplica %s seals new values under key %d, not %d: what it writes stays under key %d\n"+
				"until it runs with key %d as primary and the rewrap is run again.\n", r.Owner, r.Primary, primary, r.Primary, primary)
		}
	}
	return nil
}
