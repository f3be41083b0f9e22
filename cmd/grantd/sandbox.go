package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/table"
)

func cmdSandbox(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sandbox")
	d := sandbox.DefaultSettings()
	listen := fs.String("listen", "127.0.0.1:9090", "listen address")
	base := fs.String("base-url", "", "externally visible base URL (default http://<listen address>)")
	fs.BoolVar(&d.Rotation, "rotation", d.Rotation, "rotate refresh tokens on use")
	fs.DurationVar(&d.ReuseInterval, "reuse-interval", d.ReuseInterval, "grace period in which the previous refresh token may be reused")
	fs.DurationVar(&d.AccessTTL, "access-ttl", d.AccessTTL, "access-token lifetime")
	fs.DurationVar(&d.RefreshIdle, "refresh-idle", d.RefreshIdle, "refresh-token inactivity lifetime")
	fs.DurationVar(&d.RefreshAbsolute, "refresh-absolute", d.RefreshAbsolute, "refresh-token absolute lifetime")
	fs.BoolVar(&d.SendIss, "send-iss", d.SendIss, "send the RFC 9207 iss parameter in authorization responses")
	fs.BoolVar(&d.RequireJSON, "require-json", d.RequireJSON, "refuse form-encoded token requests")
	fs.DurationVar(&d.TokenLatency, "token-latency", d.TokenLatency, "delay before each token-endpoint response")
	fs.Float64Var(&d.TokenRateLimit, "token-rate-limit", d.TokenRateLimit, "token-endpoint capacity in requests per second, beyond which it answers 429 (0: unlimited)")
	fs.IntVar(&d.TokenRateBurst, "token-rate-burst", d.TokenRateBurst, "token-endpoint burst size (0: the rate limit rounded up)")
	fs.Float64Var(&d.APIRateLimit, "api-rate-limit", d.APIRateLimit, "Pax8 API capacity in requests per second, beyond which it answers Pax8's 429 (0: unlimited)")
	fs.IntVar(&d.APIRateBurst, "api-rate-burst", d.APIRateBurst, "Pax8 API burst size (0: the rate limit rounded up)")
	discrepancies := fs.Bool("discrepancies", false, "seed each partner's Pax8 invoices with one discrepancy of each category (GET /_sandbox/pax8/discrepancies lists them)")
	clientID := fs.String("client-id", "", "register an OAuth client with this id")
	clientSecret := fs.String("client-secret", "", "the registered client's secret")
	var redirects stringList
	fs.Var(&redirects, "redirect-uri", "the registered client's redirect URI (repeatable)")
	asJSON := fs.Bool("json", false, "print the endpoints as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if (*clientID == "") != (*clientSecret == "") || (*clientID == "" && len(redirects) > 0) {
		return usagef("--client-id, --client-secret and --redirect-uri go together")
	}
	if *clientID != "" && len(redirects) == 0 {
		return usagef("--client-id needs at least one --redirect-uri")
	}
	for _, v := range []time.Duration{d.AccessTTL, d.RefreshIdle, d.RefreshAbsolute} {
		if v <= 0 {
			return usagef("lifetimes must be positive")
		}
	}
	if d.ReuseInterval < 0 {
		return usagef("--reuse-interval must not be negative")
	}
	if d.TokenLatency < 0 || d.TokenRateLimit < 0 || d.TokenRateBurst < 0 || d.APIRateLimit < 0 || d.APIRateBurst < 0 {
		return usagef("--token-latency, --token-rate-limit, --token-rate-burst, --api-rate-limit and --api-rate-burst must not be negative")
	}

	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sb, err := sandbox.New(sandbox.Options{Logger: logger, Pax8: d, APIDiscrepancies: *discrepancies})
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if *base == "" {
		*base = "http://" + ln.Addr().String()
	}
	sb.SetBaseURL(*base)
	if *clientID != "" {
		sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: *clientID, Secret: *clientSecret, RedirectURIs: redirects})
	}
	// A Daxko partner account, so the Daxko personality works at once; the
	// username is the one Daxko's own documentation uses (seeds/004).
	daxko := sandbox.DaxkoPartner{Username: "daxko_api_user", Password: "demo", RefreshToken: "dxk_" + rand.Text(), Clients: []int{9999, 4242}}
	if err := sb.RegisterDaxkoPartner(daxko); err != nil {
		return err
	}
	printSandbox(e, sb, d, *clientID, *asJSON)
	if !*asJSON {
		fmt.Fprintf(e.stdout, "Daxko partner: username %s, password %s, refresh token %s, clients 9999 and 4242\n",
			daxko.Username, daxko.Password, daxko.RefreshToken)
	}

	srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printSandbox prints the sandbox's endpoints and logins, and the entries
// of grantd's providers: list that point the built-ins at it; pax8 is the
// personality started with settings.
func printSandbox(e *env, sb *sandbox.Server, pax8 sandbox.Settings, clientID string, asJSON bool) {
	personalities := []string{sandbox.Pax8, sandbox.Paxful, sandbox.Daxko}
	base := trimIssuer(sb.Endpoints(sandbox.Pax8).Issuer)
	snippets := map[string]string{}
	for _, name := range personalities {
		if y, ok := sandboxProviderYAML(name, sb.Endpoints(name), pax8); ok {
			snippets[name] = y
		}
	}
	if asJSON {
		out := map[string]any{"control_prefix": base + "/_sandbox/", "client_id": clientID}
		for _, name := range personalities {
			ep := sb.Endpoints(name)
			m := map[string]any{
				"issuer":         ep.Issuer,
				"authorize_url":  ep.AuthorizeURL,
				"token_url":      ep.TokenURL,
				"userinfo_url":   ep.UserinfoURL,
				"jwks_url":       ep.JWKSURL,
				"revocation_url": ep.RevocationURL,
				"discovery_url":  ep.DiscoveryURL,
				"api_base_url":   ep.APIBaseURL,
				"api_token_url":  ep.APITokenURL,
				"accounts":       sandbox.AccountsOf(name),
			}
			if y, ok := snippets[name]; ok {
				// The entry of grantd's providers: list for this personality.
				m["provider_yaml"] = y
			}
			out[name] = m
		}
		// "accounts" and "pax8.control_prefix" predate the other
		// personalities; scripts read them.
		out["accounts"] = sandbox.Accounts()
		out[sandbox.Pax8].(map[string]any)["control_prefix"] = base + "/_sandbox/"
		writeJSON(e.stdout, out)
		return
	}
	w := e.stdout
	fmt.Fprintf(w, "grantd sandbox (Ctrl-C to stop); control API %s/_sandbox/ (stats, faults, clock, clients, settings)\n", base)
	for _, name := range personalities {
		ep := sb.Endpoints(name)
		fmt.Fprintf(w, "\n%s personality:\n", name)
		t := table.New(w, "  ENDPOINT", "URL")
		for _, row := range [][2]string{
			{"issuer", ep.Issuer}, {"authorize", ep.AuthorizeURL}, {"token", ep.TokenURL},
			{"userinfo", ep.UserinfoURL}, {"jwks", ep.JWKSURL}, {"revocation", ep.RevocationURL}, {"discovery", ep.DiscoveryURL},
			{"api base", ep.APIBaseURL}, {"api token", ep.APITokenURL},
		} {
			if row[1] != "" {
				t.Row("  "+row[0], row[1])
			}
		}
		t.Flush()
		if accounts := sandbox.AccountsOf(name); len(accounts) > 0 {
			t = table.New(w, "  USERNAME", "PASSWORD", "KIND", "NAME")
			for _, a := range accounts {
				t.Row("  "+a.Username, a.Password, a.Kind, a.Name+" ("+a.Company+")")
			}
			t.Flush()
		}
	}
	if len(snippets) > 0 {
		fmt.Fprintln(w, "\ngrantd config for these providers (paste into grantd's config file; http on loopback needs dev: true):")
		fmt.Fprintln(w, "providers:")
		for _, name := range personalities {
			if y, ok := snippets[name]; ok {
				fmt.Fprintf(w, "  - %s\n", y)
			}
		}
	}
	if clientID != "" {
		fmt.Fprintf(w, "\nRegistered Pax8 client: %s\n", clientID)
	} else {
		fmt.Fprintln(w, "\nNo client registered: pass --client-id, --client-secret and --redirect-uri, or POST /_sandbox/clients.")
	}
}

// sandboxProviderYAML is [sandbox.ProviderYAML] for personality name, and
// false when grantd has no built-in provider of that name to extend. The
// pax8 entry also carries the refresh-token settings the pax8 sandbox was
// started with where they differ from the built-in's, so that grantd
// refreshes ahead of the idle lifetime and replays inside the reuse
// interval the sandbox really has.
func sandboxProviderYAML(name string, ep sandbox.Endpoints, pax8 sandbox.Settings) (string, bool) {
	builtins := provider.Builtin()
	i := slices.IndexFunc(builtins, func(p provider.Provider) bool { return p.Name == name })
	if i < 0 {
		return "", false
	}
	if name != sandbox.Pax8 {
		return sandbox.ProviderYAML(name, ep), true
	}
	rt := builtins[i].RefreshToken
	var diff []string
	for _, f := range []struct {
		key          string
		sandbox, std time.Duration
	}{
		{"absolute_lifetime", pax8.RefreshAbsolute, rt.AbsoluteLifetime.D()},
		{"idle_lifetime", pax8.RefreshIdle, rt.IdleLifetime.D()},
		{"reuse_interval", pax8.ReuseInterval, rt.ReuseInterval.D()},
	} {
		if f.sandbox != f.std {
			diff = append(diff, f.key+": "+f.sandbox.String())
		}
	}
	if len(diff) == 0 {
		return sandbox.ProviderYAML(name, ep), true
	}
	return sandbox.ProviderYAML(name, ep, "refresh_token: {"+strings.Join(diff, ", ")+"}"), true
}

// trimIssuer returns the sandbox base URL from the pax8 issuer (B/pax8/).
func trimIssuer(iss string) string {
	const suffix = "/" + sandbox.Pax8 + "/"
	if len(iss) > len(suffix) && iss[len(iss)-len(suffix):] == suffix {
		return iss[:len(iss)-len(suffix)]
	}
	return iss
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return fmt.Sprint(*l) }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
