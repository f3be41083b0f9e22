package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"

	"github.com/grantd/grantd/internal/app"
	"github.com/grantd/grantd/internal/config"
)

// defaultConfigPath is read by serve and tenants when --config is not given;
// when it does not exist they run on defaults.
const defaultConfigPath = "grantd.yaml"

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve")
	cf := addConfigFlags(fs)
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
	a, err := app.Build(ctx, cfg, nil, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

// configFlags are the flags of the commands that read the config file.
type configFlags struct {
	path   string
	listen string
	dev    bool
	fs     *flag.FlagSet
}

func addConfigFlags(fs *flag.FlagSet) *configFlags {
	cf := &configFlags{fs: fs}
	fs.StringVar(&cf.path, "config", defaultConfigPath, "config file (YAML); defaults apply when the default file is missing")
	fs.StringVar(&cf.listen, "listen", "", "listen address (overrides the config)")
	fs.BoolVar(&cf.dev, "dev", false, "dev mode: allow http:// URLs on loopback (overrides the config)")
	return cf
}

// load reads the config with flags applied over it and returns it with the
// logger it configures. When the config was read but does not validate,
// the config is returned with the error (and a nil logger).
func (cf *configFlags) load(e *env) (*config.Config, *slog.Logger, error) {
	set := map[string]bool{}
	cf.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	path := cf.path
	if !set["config"] {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(e.stderr, "grantd: %s not found; running on defaults (dev mode, SQLite grantd.db in the working directory)\n", path)
			path = ""
		}
	}
	cfg, err := config.Load(path, e.getenv, func(c *config.Config) {
		if set["listen"] {
			c.Listen = cf.listen
		}
		switch {
		case set["dev"]:
			c.Dev = cf.dev
		case path == "" && e.getenv("GRANTD_DEV") == "":
			// Running on defaults means a local trial: the default
			// public URL is http on loopback, which needs dev mode.
			c.Dev = true
		}
		derivePublicURL(c)
	})
	if err != nil {
		return cfg, nil, fmt.Errorf("config: %w", err)
	}
	logger, err := app.NewLogger(e.stderr, cfg.LogFormat, cfg.SlogLevel())
	if err != nil {
		return nil, nil, err
	}
	return cfg, logger, nil
}

// derivePublicURL points the default public URL at the listen address
// when only the latter was changed, in dev mode on loopback: otherwise
// connect links and redirect URIs would name a port nothing listens on.
func derivePublicURL(c *config.Config) {
	d := config.Default()
	if !c.Dev || c.PublicURL != d.PublicURL || c.Listen == d.Listen {
		return
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return
	}
	c.PublicURL = "http://" + c.Listen
}
