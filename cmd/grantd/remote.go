package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/grantd/grantd/internal/table"
	"io"
	"strings"
	"time"

	grantd "github.com/grantd/grantd/client"
)

// remoteFlags are the flags of the commands that call a running server.
type remoteFlags struct {
	server, key string
	asJSON      bool
}

// addRemoteFlags adds --server, --key and --json. The environment fills in
// what the flags leave empty when the client is made, so that -h prints no
// default of its own next to the variable's name.
func addRemoteFlags(fs *flag.FlagSet, e *env) *remoteFlags {
	f := &remoteFlags{}
	fs.StringVar(&f.server, "server", "", "grantd base URL; if empty, $GRANTD_URL")
	fs.StringVar(&f.key, "key", "", "tenant API key; if empty, $GRANTD_API_KEY")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON (the same as --output json)")
	return f
}

// addOutputFlag adds --output table|json to a command that has no output
// flag of its own; read it with [remoteFlags.format].
func (f *remoteFlags) addOutputFlag(fs *flag.FlagSet) *string {
	return fs.String("output", "table", "output format: table or json")
}

// format returns "json" or "table" from --output and --json.
func (f *remoteFlags) format(output *string) (string, error) {
	if f.asJSON {
		return "json", nil
	}
	switch *output {
	case "table", "json":
		return *output, nil
	}
	return "", usagef("--output must be table or json, not %q", *output)
}

func (f *remoteFlags) client(e *env) (*grantd.Client, error) {
	server, key := f.server, f.key
	if server == "" {
		server = e.getenv("GRANTD_URL")
	}
	if key == "" {
		key = e.getenv("GRANTD_API_KEY")
	}
	return newAPIClient(server, key)
}

func cmdConnect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "connect")
	rf := addRemoteFlags(fs, e)
	providerName := fs.String("provider", "", "provider to connect (uses the default integration for it)")
	integrationID := fs.String("integration", "", "integration id (instead of --provider)")
	reauth := fs.String("connection", "", "reauthorize this connection (instead of --provider): a ReAuthorize link")
	returnTo := fs.String("return-to", "", "URL the user is sent back to after connecting (must be allow-listed)")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the connection")
	var tags stringList
	fs.Var(&tags, "tag", "label the connection with this tag (repeatable)")
	var endUser grantd.EndUser
	fs.StringVar(&endUser.ID, "end-user-id", "", "your application's user the connection is for (stored on it)")
	fs.StringVar(&endUser.Email, "end-user-email", "", "that user's email (stored on the connection)")
	output := rf.addOutputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	format, err := rf.format(output)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if n := countSet(*providerName, *integrationID, *reauth); n != 1 {
		return usagef("pass exactly one of --provider, --integration and --connection")
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	before, err := c.Connections(ctx, grantd.ListOptions{})
	if err != nil {
		return err
	}
	seen := map[string]int64{}
	for _, conn := range before {
		seen[conn.ID] = conn.Version
	}
	var s grantd.ConnectSession
	if *reauth != "" && len(tags) == 0 && endUser == (grantd.EndUser{}) {
		s, err = c.Reauthorize(ctx, *reauth, *returnTo)
	} else {
		s, err = c.CreateConnectSession(ctx, grantd.ConnectSessionRequest{Provider: *providerName, IntegrationID: *integrationID,
			ConnectionID: *reauth, ReturnTo: *returnTo, EndUser: endUser, Tags: tags})
	}
	if err != nil {
		return err
	}
	if format != "json" {
		fmt.Fprintf(e.stdout, "Open this URL in a browser to connect (valid until %s):\n\n  %s\n\n", table.Time(s.ExpiresAt), s.URL)
	} else {
		fmt.Fprintf(e.stderr, "open %s\n", s.URL)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, *timeout,
		fmt.Errorf("gave up after --timeout %s; the link stays valid until %s", *timeout, table.Time(s.ExpiresAt)))
	defer cancel()
	conn, err := waitForConnection(ctx, c, s.IntegrationID, seen, newProgress(e.stderr))
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(e.stdout, conn)
	}
	fmt.Fprintf(e.stdout, "Connected: %s (%s, %s)", conn.ID, conn.Provider, conn.Status)
	if conn.Email != "" {
		fmt.Fprintf(e.stdout, " as %s", conn.Email)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

// waitForConnection polls until a connection through integrationID
// appears that is new, or that was reauthorized (its version moved on),
// compared with seen.
func waitForConnection(ctx context.Context, c *grantd.Client, integrationID string, seen map[string]int64, p *progress) (grantd.Connection, error) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	defer p.done()
	for {
		list, err := c.Connections(ctx, grantd.ListOptions{})
		if err != nil && ctx.Err() == nil {
			p.note("retrying: " + err.Error())
		}
		for _, conn := range list {
			v, old := seen[conn.ID]
			if conn.IntegrationID == integrationID && conn.Status == "active" && (!old || conn.Version > v && !conn.ConnectedAt.IsZero()) {
				return conn, nil
			}
		}
		select {
		case <-ctx.Done():
			return grantd.Connection{}, fmt.Errorf("no connection appeared: %w", context.Cause(ctx))
		case <-t.C:
			p.tick()
		}
	}
}

// progress shows that the command is waiting: a spinner on a terminal,
// dots otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	n     int
	shown bool
}

func newProgress(w io.Writer) *progress { return &progress{w: w, tty: isTerminal(w)} }

func (p *progress) tick() {
	p.shown = true
	if p.tty {
		frames := `|/-\`
		fmt.Fprintf(p.w, "\r%c waiting for the connection (%ds)", frames[p.n%len(frames)], p.n)
	} else {
		fmt.Fprint(p.w, ".")
	}
	p.n++
}

func (p *progress) note(msg string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\n", msg)
	}
}

func (p *progress) done() {
	if !p.shown {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", 40)+"\r")
	} else {
		fmt.Fprintln(p.w)
	}
}

// newAPIClient returns a client of the public package for base and key,
// with usage errors that name the flags.
func newAPIClient(base, key string) (*grantd.Client, error) {
	if base == "" {
		return nil, usagef("no server: pass --server or set GRANTD_URL")
	}
	if key == "" {
		return nil, usagef("no API key: pass --key or set GRANTD_API_KEY")
	}
	c, err := grantd.NewClient(base, key, grantd.WithUserAgent("grantd-cli/"+version))
	if err != nil {
		return nil, usagef("--server %q: %v", base, err)
	}
	return c, nil
}

// countSet counts the non-empty strings.
func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}
