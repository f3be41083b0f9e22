package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
)

// command is one entry of the subcommand table.
type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	run     func(ctx context.Context, e *env, args []string) error
	detail  string // more help, after the flags of "grantd NAME -h"
}

// commands lists every subcommand, in the order "grantd help" shows them.
// It is filled in init to break the reference cycle with cmdHelp.
var commands []command

func init() {
	commands = []command{
		{"serve", "[--config grantd.yaml]", "run the broker from a config file", cmdServe, ""},
		{"sandbox", "[--listen 127.0.0.1:9090] [flags]", "run the provider emulators on their own", cmdSandbox, ""},
		{"demo", "[--headless] [--json] [--dir DIR]", "run the whole system on embedded defaults", cmdDemo, ""},
		{"connect", "--provider pax8 | --integration ID | --connection ID [--output table|json] [--server URL] [--key KEY]", "create a connect link (or a ReAuthorize link) and wait for the connection", cmdConnect, ""},
		{"connections", "[--status active|needs_reauth|revoked] [--output table|json]", "list the tenant's connections", cmdConnections, ""},
		{"token", "CONNECTION-ID [--output table|json]", "print a connection's access token", cmdToken, exitCodesHelp},
		{"refresh", "CONNECTION-ID [--output table|json]", "refresh a connection now and print the new access token", cmdRefresh, exitCodesHelp},
		{"events", "CONNECTION-ID [--limit 50] [--output table|json]", "show a connection's newest events", cmdEvents, ""},
		{"disconnect", "CONNECTION-ID [--output table|json]", "delete a connection, revoking its grant at the provider", cmdDisconnect, ""},
		{"integrations", "[list] [--output table|json] | update ID [--client-secret-env VAR] [--default] [flags] | delete ID [--cascade]", "list, change or delete integrations through the API", cmdIntegrations, ""},
		{"webhooks", "deliveries [--state S] [--endpoint KEY] | redeliver ID", "list webhook deliveries or send one again through the API", cmdWebhooks, ""},
		{"pax8", "<resource> <verb> [ARGS] --connection ID [--output table|json|csv] [--all]", "call the Pax8 API through a connection's actions", cmdPax8, ""},
		{"orgs", "import FILE.csv|FILE.json [--output table|json] [--server URL] [--key KEY]", "upload the tenant's own organisations", cmdOrgs, orgsImportHelp},
		{"mappings", "show|set COMPANY_ID ORG_ID|accept-suggestions --connection ID [--output table|json|csv]", "map a connection's Pax8 companies to the tenant's organisations", cmdMappings, ""},
		{"keys", "generate [--id N] | rewrap [--config grantd.yaml] [--force] [--json]", "generate a vault key; reseal stored secrets under the primary key", cmdKeys, ""},
		{"tenants", "create NAME | list | keys create|list|revoke TENANT [KEY_ID] | delete TENANT [--config grantd.yaml]", "manage tenants and their API keys directly in the store", cmdTenants, ""},
		{"load", "token|refresh|proxy|crash|storm|idle [flags] [--json]", "measure grantd against a baseline on loopback (BENCHMARKS.md), or crash replicas inside refreshes (RT-04)", cmdLoad, ""},
		{"version", "", "print the version", cmdVersion, ""},
		{"help", "[COMMAND]", "show this help", cmdHelp, ""},
	}
}

// Exit statuses of grantd.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	// exitNeedsTenant (3) is declared with the connection commands.
)

// exitCodesHelp documents the exit statuses, in "grantd -h" and the help
// of the commands that can end with 3.
const exitCodesHelp = `exit status:
  0  success
  1  failure (the server, the network, or a refused request)
  2  usage error (a wrong flag or argument)
  3  the connection needs the tenant: it must be authorized again
     (needs_reauth; the message gives the grantd connect --connection
     command that makes a ReAuthorize link) or was revoked
`

// orgsImportHelp is the long help of "grantd orgs".
const orgsImportHelp = `grantd orgs import FILE replaces the tenant's organisations (the targets of
"grantd mappings") with the list in FILE, chosen by its extension:

  FILE.csv   two columns, id and name, one organisation a line; a first
             line "id,name" is a header and is skipped. Quote a name with
             a comma in it:
               id,name
               org-1,Contoso Ltd
               org-2,"Fabrikam, Inc."
  FILE.json  {"organizations":[{"id":"org-1","name":"Contoso Ltd"}]} or a
             bare array of {"id","name"} objects

Ids must be unique and every organisation needs a name, or nothing
changes. An empty list clears the organisations. Mappings to an
organisation that is no longer listed are kept and shown as org_missing.
`

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run executes one command line and returns the process exit status: 0 on
// success, 1 on failure, 2 on a usage error, 3 when the connection needs
// the tenant (exitCodesHelp).
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		printHelp(e)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(e.stderr, "grantd %s: %v\nusage: grantd %s %s\n", c.name, err, c.name, c.args)
			return exitUsage
		case errors.As(err, new(*tenantError)):
			fmt.Fprintf(e.stderr, "grantd %s: %v\n", c.name, err)
			return exitNeedsTenant
		default:
			fmt.Fprintf(e.stderr, "grantd %s: %v\n", c.name, err)
			return exitError
		}
	}
	fmt.Fprintf(e.stderr, "grantd: unknown command %q\n", name)
	printHelp(e)
	return 2
}

func cmdHelp(_ context.Context, e *env, args []string) error {
	if len(args) == 1 {
		for _, c := range commands {
			if c.name == args[0] {
				fmt.Fprintf(e.stdout, "usage: grantd %s %s\n\n%s\n", c.name, c.args, c.summary)
				if c.detail != "" {
					fmt.Fprintf(e.stdout, "\n%s", c.detail)
				}
				fmt.Fprintf(e.stdout, "\nRun \"grantd %s -h\" for its flags.\n", c.name)
				return nil
			}
		}
		return usagef("unknown command %q", args[0])
	}
	printHelp(e)
	return nil
}

func printHelp(e *env) {
	var b strings.Builder
	b.WriteString("grantd brokers delegated OAuth2 access to vendor APIs.\n\nusage: grantd <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-13s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun \"grantd <command> -h\" for a command's flags.\n\n")
	b.WriteString("The commands that call a server read --server and --key, or GRANTD_URL and\nGRANTD_API_KEY.\n\n")
	b.WriteString(exitCodesHelp)
	fmt.Fprint(e.stdout, b.String())
}

// newFlags returns a flag set for a subcommand that reports errors instead
// of exiting and writes its usage to stderr.
//
// Its usage names the command's synopsis, summary and flags, then its
// detail, if any (the commands table, by the first word of name).
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("grantd "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		first, _, _ := strings.Cut(name, " ")
		i := slices.IndexFunc(commands, func(c command) bool { return c.name == first })
		if i < 0 || first != name {
			fmt.Fprintf(e.stderr, "usage of grantd %s:\n", name)
			fs.PrintDefaults()
			return
		}
		c := commands[i]
		fmt.Fprintf(e.stderr, "usage: grantd %s %s\n\n%s\n\nflags:\n", c.name, c.args, c.summary)
		fs.PrintDefaults()
		if c.detail != "" {
			fmt.Fprintf(e.stderr, "\n%s", c.detail)
		}
	}
	return fs
}

// parseFlags parses args allowing flags after positional arguments
// ("tenants create acme --config x.yaml") and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
