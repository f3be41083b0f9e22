package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/grantd/grantd/internal/table"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	grantd "github.com/grantd/grantd/client"
)

// exitNeedsTenant is the exit status when the connection needs the tenant:
// it must be authorized again (needs_reauth) or was revoked.
const exitNeedsTenant = 3

// needsTenant wraps an error of a call on connection id that answered
// needs_reauth or revoked with the next step, a ReAuthorize link; run
// exits with [exitNeedsTenant] for it.
func needsTenant(err error, id string) error {
	switch {
	case grantd.IsNeedsReauth(err):
		return &tenantError{err: err, hint: fmt.Sprintf("the connection needs the tenant to consent again; create a ReAuthorize link: grantd connect --connection %s", id)}
	case grantd.IsRevoked(err):
		return &tenantError{err: err, hint: "the connection was revoked; connect again: grantd connect --provider PROVIDER"}
	}
	return err
}

// tenantError is an error only the tenant can fix, with the next step.
type tenantError struct {
	err  error
	hint string
}

func (e *tenantError) Error() string { return e.err.Error() + "\nnext: " + e.hint }
func (e *tenantError) Unwrap() error { return e.err }

// connectionStatuses are the values of connections --status.
var connectionStatuses = []string{grantd.StatusActive, grantd.StatusNeedsReauth, grantd.StatusRevoked}

func cmdConnections(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "connections")
	rf := addRemoteFlags(fs, e)
	output := rf.addOutputFlag(fs)
	status := fs.String("status", "", "only connections with this status: "+strings.Join(connectionStatuses, ", "))
	tag := fs.String("tag", "", "only connections with this tag")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	format, err := rf.format(output)
	if err != nil {
		return err
	}
	if *status != "" && !slices.Contains(connectionStatuses, *status) {
		return usagef("--status must be one of %s, not %q", strings.Join(connectionStatuses, ", "), *status)
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	list, err := c.Connections(ctx, grantd.ListOptions{Status: *status, Tag: *tag})
	if err != nil {
		return err
	}
	if format == "json" {
		if list == nil {
			list = []grantd.Connection{}
		}
		return writeJSON(e.stdout, list)
	}
	if len(list) == 0 {
		if *status != "" || *tag != "" {
			fmt.Fprintln(e.stdout, "no connections match")
			return nil
		}
		fmt.Fprintln(e.stdout, "no connections (create one with: grantd connect --provider pax8)")
		return nil
	}
	t := table.New(e.stdout, "ID", "PROVIDER", "INTEGRATION", "STATUS", "EMAIL", "ACCESS EXPIRES", "CONNECTED", "LAST ERROR")
	reauth := 0
	for _, conn := range list {
		t.Row(conn.ID, conn.Provider, conn.IntegrationID, conn.Status, conn.Email,
			table.Time(conn.AccessExpiresAt), table.Time(conn.ConnectedAt), oneLine(conn.LastError, 60))
		if conn.Status == grantd.StatusNeedsReauth {
			reauth++
		}
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if reauth > 0 {
		fmt.Fprintf(e.stderr, "%d connection(s) need the tenant to consent again: grantd connect --connection ID\n", reauth)
	}
	return nil
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// oneConnection parses the flags of a command that takes one connection
// id and returns the id, the output format and the client.
func oneConnection(e *env, name string, args []string, extra func(fs *flag.FlagSet)) (string, string, *grantd.Client, error) {
	fs := newFlags(e, name)
	rf := addRemoteFlags(fs, e)
	output := rf.addOutputFlag(fs)
	if extra != nil {
		extra(fs)
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", "", nil, err
	}
	if len(pos) != 1 {
		return "", "", nil, usagef("want exactly one connection id")
	}
	format, err := rf.format(output)
	if err != nil {
		return "", "", nil, err
	}
	c, err := rf.client(e)
	return pos[0], format, c, err
}

func cmdToken(ctx context.Context, e *env, args []string) error {
	id, format, c, err := oneConnection(e, "token", args, nil)
	if err != nil {
		return err
	}
	tok, err := c.Token(ctx, id)
	if err != nil {
		return needsTenant(err, id)
	}
	return printToken(e, tok, format)
}

func cmdRefresh(ctx context.Context, e *env, args []string) error {
	id, format, c, err := oneConnection(e, "refresh", args, nil)
	if err != nil {
		return err
	}
	tok, err := c.Refresh(ctx, id, "")
	if err != nil {
		return needsTenant(err, id)
	}
	return printToken(e, tok, format)
}

// printToken prints the access token alone, for scripts, or all of the
// answer as JSON.
func printToken(e *env, tok grantd.Token, format string) error {
	if format == "json" {
		return writeJSON(e.stdout, tok)
	}
	fmt.Fprintln(e.stdout, tok.AccessToken)
	return nil
}

func cmdEvents(ctx context.Context, e *env, args []string) error {
	var limit *int
	id, format, c, err := oneConnection(e, "events", args, func(fs *flag.FlagSet) {
		limit = fs.Int("limit", 50, "how many of the newest events, 1 to 500")
	})
	if err != nil {
		return err
	}
	if *limit < 1 || *limit > 500 {
		return usagef("--limit must be between 1 and 500")
	}
	events, err := c.Events(ctx, id, *limit)
	if err != nil {
		return err
	}
	if format == "json" {
		if events == nil {
			events = []grantd.Event{}
		}
		return writeJSON(e.stdout, events)
	}
	if len(events) == 0 {
		fmt.Fprintln(e.stdout, "no events")
		return nil
	}
	t := table.New(e.stdout, "TIME", "EVENT", "DETAIL")
	for _, ev := range events {
		t.Row(ev.CreatedAt.Local().Format(time.DateTime), ev.Kind, oneLine(ev.Detail, 100))
	}
	return t.Flush()
}

func cmdDisconnect(ctx context.Context, e *env, args []string) error {
	id, format, c, err := oneConnection(e, "disconnect", args, nil)
	if err != nil {
		return err
	}
	revoked, err := c.Disconnect(ctx, id)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(e.stdout, struct {
			ID      string `json:"id"`
			Revoked bool   `json:"revoked"`
		}{id, revoked})
	}
	if revoked {
		fmt.Fprintf(e.stdout, "disconnected %s; the provider revoked the grant\n", id)
	} else {
		fmt.Fprintf(e.stdout, "disconnected %s; the grant was not revoked at the provider (no revocation endpoint, no refresh token, or it failed: see the revocation_failed event)\n", id)
	}
	return nil
}

// cmdIntegrations is "grantd integrations [list]". Further verbs go in
// integrationVerbs.
func cmdIntegrations(ctx context.Context, e *env, args []string) error {
	verb := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	run, ok := integrationVerbs[verb]
	if !ok {
		return usagef("unknown verb %q; want %s", verb, strings.Join(slices.Sorted(maps.Keys(integrationVerbs)), ", "))
	}
	return run(ctx, e, args)
}

// integrationVerbs are the verbs of "grantd integrations".
var integrationVerbs = map[string]func(ctx context.Context, e *env, args []string) error{
	"list": cmdIntegrationsList,
	"update": func(ctx context.Context, e *env, args []string) error {
		return cmdIntegrationsChange(ctx, e, "update", args)
	},
	"delete": func(ctx context.Context, e *env, args []string) error {
		return cmdIntegrationsChange(ctx, e, "delete", args)
	},
}

func cmdIntegrationsList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "integrations list")
	rf := addRemoteFlags(fs, e)
	output := rf.addOutputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	format, err := rf.format(output)
	if err != nil {
		return err
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	list, err := c.Integrations(ctx)
	if err != nil {
		return err
	}
	if format == "json" {
		if list == nil {
			list = []grantd.Integration{}
		}
		return writeJSON(e.stdout, list)
	}
	t := table.New(e.stdout, "ID", "PROVIDER", "NAME", "OWNER", "DEFAULT", "CLIENT ID", "SCOPES", "CREATED")
	for _, in := range list {
		t.Row(in.ID, in.Provider, in.Name, in.Owner, strconv.FormatBool(in.IsDefault), in.ClientID,
			strings.Join(in.Scopes, " "), table.Time(in.CreatedAt))
	}
	return t.Flush()
}
