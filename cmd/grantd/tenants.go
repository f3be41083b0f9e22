package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/table"
	"github.com/grantd/grantd/internal/tenant"
)

// cmdTenants manages tenants directly in the configured database. It
// needs only the database setting; the vault is not involved, since
// tenants and API key hashes are not sealed.
func cmdTenants(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "keys" {
		return cmdTenantKeys(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "delete" {
		return cmdTenantDelete(ctx, e, args[1:])
	}
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		return usagef("want \"tenants create NAME\", \"tenants list\", \"tenants keys create|list|revoke TENANT\" or \"tenants delete TENANT\"")
	}
	sub := args[0]
	fs := newFlags(e, "tenants "+sub)
	cf := addConfigFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case sub == "create" && len(pos) != 1:
		return usagef("want exactly one tenant name (quote it if it has spaces)")
	case sub == "list" && len(pos) != 0:
		return usagef("unexpected argument %q", pos[0])
	}
	cfg, logger, err := cf.load(e)
	if err != nil {
		// The server's secrets (admin and vault keys) are often not in
		// this shell's environment; the database setting is enough here.
		if cfg == nil || cfg.Database == "" {
			return err
		}
		fmt.Fprintf(e.stderr, "grantd: note: the config does not validate; using only its database setting (%s)\n", cfg.Database)
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := sqlstore.Open(ctx, cfg.Database, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	if sub == "list" {
		ts, err := st.ListTenants(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]map[string]any, 0, len(ts))
			for _, t := range ts {
				out = append(out, map[string]any{"id": t.ID, "name": t.Name, "created_at": t.CreatedAt})
			}
			return writeJSON(e.stdout, out)
		}
		if len(ts) == 0 {
			fmt.Fprintln(e.stdout, "no tenants (create one with: grantd tenants create NAME)")
			return nil
		}
		tbl := table.New(e.stdout, "ID", "NAME", "CREATED")
		for _, t := range ts {
			tbl.Row(t.ID, t.Name, table.Time(t.CreatedAt))
		}
		return tbl.Flush()
	}

	t, key, err := tenant.Create(ctx, st, pos[0], time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{
			"tenant":  map[string]any{"id": t.ID, "name": t.Name, "created_at": t.CreatedAt},
			"api_key": key,
		})
	}
	fmt.Fprintf(e.stdout, "tenant   %s (%s)\napi key  %s\n", t.ID, t.Name, key)
	fmt.Fprintln(e.stderr, "\nThe API key is shown only now and cannot be shown again: store it safely.")
	return nil
}
