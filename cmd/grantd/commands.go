package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
)

// command is one entry of the subcommand table.
type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists every subcommand, in the order "grantd help" shows them.
// It is filled in init to break the reference cycle with cmdHelp.
var commands []command

func init() {
	commands = []command{
		{"serve", "[--config grantd.yaml]", "run the broker from a config file", cmdServe},
		{"sandbox", "[--listen 127.0.0.1:9090] [flags]", "run the provider emulators on their own", cmdSandbox},
		{"demo", "[--headless] [--json] [--dir DIR]", "run the whole system on embedded defaults", cmdDemo},
		{"connect", "--provider pax8 [--server URL] [--key KEY]", "create a connect link and wait for the connection", cmdConnect},
		{"connections", "[--server URL] [--key KEY] [--json]", "list the tenant's connections", cmdConnections},
		{"token", "CONNECTION-ID [--json]", "print a connection's access token", cmdToken},
		{"pax8", "<resource> <verb> [ARGS] --connection ID [--output table|json|csv] [--all]", "call the Pax8 API through a connection's actions", cmdPax8},
		{"orgs", "import FILE.csv|FILE.json [--server URL] [--key KEY]", "upload the tenant's own organisations", cmdOrgs},
		{"mappings", "show|set COMPANY_ID ORG_ID|accept-suggestions --connection ID [--output table|json|csv]", "map a connection's Pax8 companies to the tenant's organisations", cmdMappings},
		{"keys", "generate [--id N] | rewrap [--config grantd.yaml] [--force] [--json]", "generate a vault key; reseal stored secrets under the primary key", cmdKeys},
		{"tenants", "create NAME | list | keys create|list|revoke TENANT [KEY_ID] | delete TENANT [--config grantd.yaml]", "manage tenants and their API keys directly in the store", cmdTenants},
		{"load", "token|refresh|proxy|crash|storm|idle [flags] [--json]", "measure grantd against a baseline on loopback (BENCHMARKS.md), or crash replicas inside refreshes (RT-04)", cmdLoad},
		{"version", "", "print the version", cmdVersion},
		{"help", "[COMMAND]", "show this help", cmdHelp},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run executes one command line and returns the process exit status: 0 on
// success, 1 on failure, 2 on a usage error.
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
			return 2
		default:
			fmt.Fprintf(e.stderr, "grantd %s: %v\n", c.name, err)
			return 1
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
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun \"grantd <command> -h\" for a command's flags.\n")
	fmt.Fprint(e.stdout, b.String())
}

// newFlags returns a flag set for a subcommand that reports errors instead
// of exiting and writes its usage to stderr.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("grantd "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
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
