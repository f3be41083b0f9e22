package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/grantd/grantd/internal/app"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/table"
	"github.com/grantd/grantd/internal/tenant"
)

// openTenantStore opens the configured database for the tenant commands,
// which need only its setting: the server's secrets are often not in this
// shell's environment.
func openTenantStore(ctx context.Context, e *env, cf *configFlags) (store.Store, error) {
	cfg, logger, err := cf.load(e)
	if err != nil {
		if cfg == nil || cfg.Database == "" {
			return nil, err
		}
		fmt.Fprintf(e.stderr, "grantd: note: the config does not validate; using only its database setting (%s)\n", cfg.Database)
		logger = slog.New(slog.DiscardHandler)
	}
	return sqlstore.Open(ctx, cfg.Database, logger)
}

// cmdTenantKeys is "tenants keys create|list|revoke": a tenant's API keys,
// directly in the store. Rotation: create a key, switch the application to
// it, then revoke the old one; both work in between.
func cmdTenantKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		return usagef("want \"tenants keys create TENANT [--name N] [--expires 720h]\", \"tenants keys list TENANT\" or \"tenants keys revoke TENANT KEY_ID\"")
	}
	sub := args[0]
	fs := newFlags(e, "tenants keys "+sub)
	cf := addConfigFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	var name *string
	var expires *time.Duration
	if sub == "create" {
		name = fs.String("name", "", "the key's name, shown in lists")
		expires = fs.Duration("expires", 0, "how long the key works (default: until revoked)")
	}
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"create": 1, "list": 1, "revoke": 2}[sub]
	if len(pos) != want {
		return usagef("tenants keys %s takes %d argument(s), got %d", sub, want, len(pos))
	}
	st, err := openTenantStore(ctx, e, cf)
	if err != nil {
		return err
	}
	defer st.Close()
	tenantID := pos[0]
	if _, err := st.GetTenant(ctx, tenantID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("tenant %s not found", tenantID)
	} else if err != nil {
		return err
	}
	switch sub {
	case "create":
		now := time.Now()
		opts := tenant.KeyOptions{Name: *name}
		if *expires < 0 {
			return usagef("--expires must be positive")
		}
		if *expires > 0 {
			opts.ExpiresAt = now.Add(*expires)
		}
		k, key, err := tenant.CreateKey(ctx, st, tenantID, opts, now)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, map[string]any{"key": keyMap(k), "api_key": key})
		}
		fmt.Fprintf(e.stdout, "key      %s (%s)\napi key  %s\n", k.ID, k.Name, key)
		fmt.Fprintln(e.stderr, "\nThe API key is shown only now and cannot be shown again: store it safely.")
		return nil
	case "revoke":
		if err := tenant.RevokeKey(ctx, st, tenantID, pos[1]); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tenant %s has no key %s", tenantID, pos[1])
		} else if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked key %s (servers forget it within their key cache TTL, 5s by default)\n", pos[1])
		return nil
	}
	ks, err := st.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]map[string]any, 0, len(ks))
		for _, k := range ks {
			out = append(out, keyMap(k))
		}
		return writeJSON(e.stdout, out)
	}
	tbl := table.New(e.stdout, "ID", "NAME", "PREFIX", "CREATED", "LAST USED", "EXPIRES")
	for _, k := range ks {
		tbl.Row(k.ID, k.Name, k.Prefix, table.Time(k.CreatedAt), table.Time(k.LastUsedAt), table.Time(k.ExpiresAt))
	}
	return tbl.Flush()
}

func keyMap(k store.APIKey) map[string]any {
	m := map[string]any{"id": k.ID, "name": k.Name, "prefix": k.Prefix, "created_at": k.CreatedAt}
	if !k.LastUsedAt.IsZero() {
		m["last_used_at"] = k.LastUsedAt
	}
	if !k.ExpiresAt.IsZero() {
		m["expires_at"] = k.ExpiresAt
	}
	return m
}

// cmdTenantDelete is "tenants delete TENANT": it needs the whole, valid
// config (the vault keys and the integrations' secrets), since each of the
// tenant's grants is revoked at its provider before its rows go.
func cmdTenantDelete(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tenants delete")
	cf := addConfigFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one tenant id")
	}
	cfg, logger, err := cf.load(e)
	if err != nil {
		return fmt.Errorf("%w (deleting a tenant revokes its grants, which needs the vault keys and client secrets)", err)
	}
	a, err := app.Build(ctx, cfg, nil, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	d, err := a.Broker().DeleteTenant(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"id": pos[0], "connections": d.Connections, "revoked": d.Revoked, "revocation_failed": d.RevocationFailed})
	}
	fmt.Fprintf(e.stdout, "deleted tenant %s: %d connections, %d grants revoked at their provider, %d not revoked (see their revocation_failed events)\n",
		pos[0], d.Connections, d.Revoked, d.RevocationFailed)
	return nil
}
