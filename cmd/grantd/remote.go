package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// remoteFlags are the flags of the commands that call a running server.
type remoteFlags struct {
	server, key string
	asJSON      bool
}

func addRemoteFlags(fs *flag.FlagSet, e *env) *remoteFlags {
	f := &remoteFlags{}
	fs.StringVar(&f.server, "server", e.getenv("GRANTD_URL"), "grantd base URL (default $GRANTD_URL)")
	fs.StringVar(&f.key, "key", "", "tenant API key (default $GRANTD_API_KEY)")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	return f
}

func (f *remoteFlags) client(e *env) (*apiClient, error) {
	key := f.key
	if key == "" {
		key = e.getenv("GRANTD_API_KEY")
	}
	return newAPIClient(f.server, key)
}

func cmdConnect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "connect")
	rf := addRemoteFlags(fs, e)
	providerName := fs.String("provider", "", "provider to connect (uses the default integration for it)")
	integrationID := fs.String("integration", "", "integration id (instead of --provider)")
	returnTo := fs.String("return-to", "", "URL the user is sent back to after connecting (must be allow-listed)")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the connection")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if (*providerName == "") == (*integrationID == "") {
		return usagef("pass exactly one of --provider and --integration")
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	before, err := c.connections(ctx)
	if err != nil {
		return err
	}
	seen := map[string]int64{}
	for _, conn := range before {
		seen[conn.ID] = conn.Version
	}
	s, err := c.createSession(ctx, *providerName, *integrationID, *returnTo)
	if err != nil {
		return err
	}
	if !rf.asJSON {
		fmt.Fprintf(e.stdout, "Open this URL in a browser to connect (valid until %s):\n\n  %s\n\n", formatTime(s.ExpiresAt), s.URL)
	} else {
		fmt.Fprintf(e.stderr, "open %s\n", s.URL)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, *timeout,
		fmt.Errorf("gave up after --timeout %s; the link stays valid until %s", *timeout, formatTime(s.ExpiresAt)))
	defer cancel()
	conn, err := waitForConnection(ctx, c, s.IntegrationID, seen, newProgress(e.stderr))
	if err != nil {
		return err
	}
	if rf.asJSON {
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
func waitForConnection(ctx context.Context, c *apiClient, integrationID string, seen map[string]int64, p *progress) (connectionJSON, error) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	defer p.done()
	for {
		list, err := c.connections(ctx)
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
			return connectionJSON{}, fmt.Errorf("no connection appeared: %w", context.Cause(ctx))
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

func cmdConnections(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "connections")
	rf := addRemoteFlags(fs, e)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	list, err := c.connections(ctx)
	if err != nil {
		return err
	}
	if rf.asJSON {
		if list == nil {
			list = []connectionJSON{}
		}
		return writeJSON(e.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no connections (create one with: grantd connect --provider pax8)")
		return nil
	}
	t := newTable(e.stdout, "ID", "PROVIDER", "STATUS", "EMAIL", "ACCESS EXPIRES", "CONNECTED")
	for _, conn := range list {
		t.row(conn.ID, conn.Provider, conn.Status, conn.Email, formatTime(conn.AccessExpiresAt), formatTime(conn.ConnectedAt))
	}
	return t.flush()
}

func cmdToken(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token")
	rf := addRemoteFlags(fs, e)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one connection id")
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	tok, err := c.token(ctx, pos[0])
	if err != nil {
		return err
	}
	if rf.asJSON {
		return writeJSON(e.stdout, tok)
	}
	fmt.Fprintln(e.stdout, tok.AccessToken)
	return nil
}
