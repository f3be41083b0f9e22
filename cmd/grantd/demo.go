package main

import (
	"context"
	"fmt"

	"github.com/grantd/grantd/internal/demo"
)

func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo")
	var o demo.Options
	var headless, asJSON bool
	fs.BoolVar(&headless, "headless", false, "run the Pax8 flow as a scripted partner, print what happened and exit")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:0", "grantd listen address (loopback)")
	fs.StringVar(&o.SandboxListen, "sandbox-listen", "127.0.0.1:0", "sandbox listen address (loopback)")
	fs.StringVar(&o.Dir, "dir", "", "directory for the database and the vault key (default: a temporary directory, removed on exit)")
	fs.BoolVar(&o.Verbose, "v", false, "log at info level instead of warn")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	for _, addr := range []string{o.Listen, o.SandboxListen} {
		if err := demo.CheckListen(addr); err != nil {
			return usagef("%v", err)
		}
	}
	o.Logs, o.Progress = e.stderr, e.stderr
	d, err := demo.Start(ctx, o)
	if err != nil {
		return err
	}
	defer d.Close()
	if headless {
		r, err := d.RunHeadless(ctx)
		if asJSON {
			if jerr := writeJSON(e.stdout, r); jerr != nil {
				return jerr
			}
		} else {
			r.Print(e.stdout)
		}
		return err
	}
	d.PrintInstructions(e.stdout, asJSON)
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "\ngrantd demo: stopping")
	return nil
}
