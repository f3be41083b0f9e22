package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/clientip"
	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/vault"
)

// integrationIDRE is the shape of integration ids, which appear in
// callback paths.
var integrationIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// minAdminKeyLen is the shortest admin key accepted: it is a bearer
// credential for the whole operator API.
const minAdminKeyLen = 16

// Validate reports every problem with the configuration at once, joined
// with [errors.Join]. Each message starts with the YAML path of the field
// (integrations[0].client_secret_env: …) and never contains a secret. It
// checks the listen address, URLs (https, or http on loopback in dev mode,
// SEC-52), the database, log settings, providers (each validated, issuers
// unique, SEC-25), integrations (known provider, unique id, client id,
// secrets present), the return_to allow-list, durations, and the server's
// trusted proxies (SEC-53) and failed-authentication limit.
func (c *Config) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	checkURL := func(path, raw string) {
		if err := provider.CheckURL(raw, c.Dev); err != nil {
			add(path, "%v", err)
		}
	}
	errs = append(errs, c.envProblems...)

	if err := checkListen(c.Listen); err != nil {
		add("listen", "%v", err)
	}
	if c.PublicURL == "" {
		add("public_url", "is required")
	} else {
		checkURL("public_url", c.PublicURL)
		if u, err := url.Parse(c.PublicURL); err == nil && (u.RawQuery != "" || u.ForceQuery) {
			add("public_url", "must not have a query")
		}
	}
	if err := checkDatabase(c.Database); err != nil {
		add("database", "%v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level", "unknown value %q (want debug, info, warn or error)", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		add("log_format", "unknown value %q (want text or json)", c.LogFormat)
	}

	errs = append(errs, c.secretProblems...)
	if !c.secretsResolved && c.AdminKey == "" {
		add("admin_key_env", "no admin key (set admin_key_env or admin_key_file)")
	}
	if c.AdminKey != "" && len(c.AdminKey) < minAdminKeyLen {
		path := "admin_key_env"
		if c.AdminKeyEnv == "" {
			path = "admin_key_file"
		}
		add(path, "the admin key is shorter than %d characters", minAdminKeyLen)
	}
	if !c.secretsResolved && len(c.Vault.Keys) == 0 {
		add("vault.keys_env", "no vault keys (set vault.keys_env or vault.keys_file)")
	}
	if len(c.Vault.Keys) > 0 {
		if _, err := vault.New(c.Vault.Keys, c.Vault.Primary); err != nil {
			add("vault.primary", "%v", err)
		}
	}

	for i, raw := range c.ReturnToAllow {
		path := fmt.Sprintf("return_to_allow[%d]", i)
		checkURL(path, raw)
		if u, err := url.Parse(raw); err == nil && (u.RawQuery != "" || u.ForceQuery) {
			add(path, "must not have a query")
		}
	}

	// Providers are validated, and integrations checked against them, even
	// when the registry rejects them, so that every problem is reported.
	providers, err := provider.Resolve(provider.Builtin(), c.Providers)
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range providers {
		if err := p.Validate(c.Dev); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := provider.NewRegistry(providers...); err != nil && providers != nil {
		errs = append(errs, err)
	}
	byName := map[string]provider.Provider{}
	for _, p := range providers {
		if _, dup := byName[p.Name]; !dup {
			byName[p.Name] = p
		}
	}

	ids := map[string]int{}
	for i, in := range c.Integrations {
		errs = append(errs, c.validateIntegration(i, in, ids, byName, providers != nil)...)
	}

	durations := []struct {
		path string
		d    Duration
	}{
		{"refresh.interval", c.Refresh.Interval},
		{"refresh.ahead", c.Refresh.Ahead},
		{"refresh.idle_margin", c.Refresh.IdleMargin},
		{"refresh.timeout", c.Refresh.Timeout},
		{"refresh.lease_ttl", c.Refresh.LeaseTTL},
		{"connect.session_ttl", c.Connect.SessionTTL},
		{"connect.link_ttl", c.Connect.LinkTTL},
		{"console.session_ttl", c.Console.SessionTTL},
		{"server.auth_failure_limit.every", c.Server.AuthFailureLimit.Every},
	}
	for _, d := range durations {
		if d.d <= 0 {
			add(d.path, "must be positive")
		}
	}
	if c.Refresh.Workers <= 0 || c.Refresh.Workers > 1024 {
		add("refresh.workers", "must be between 1 and 1024")
	}
	if c.Refresh.MinForcedInterval < 0 {
		add("refresh.min_forced_interval", "must not be negative")
	}
	if c.Refresh.Timeout > 0 && c.Refresh.LeaseTTL <= c.Refresh.Timeout {
		add("refresh.lease_ttl", "must exceed refresh.timeout (%s), or a slow answer could be stored by no one", c.Refresh.Timeout.D())
	}
	if c.TokenCacheTTL < 0 {
		add("token_cache_ttl", "must not be negative")
	}
	seenNotice := map[Duration]bool{}
	for i, d := range c.Refresh.ReauthNotices {
		path := fmt.Sprintf("refresh.reauth_notices[%d]", i)
		switch {
		case d <= 0:
			add(path, "must be positive")
		case seenNotice[d]:
			add(path, "%s is listed twice", d.D())
		}
		seenNotice[d] = true
	}
	for i, w := range c.Webhooks {
		errs = append(errs, c.validateWebhook(i, w)...)
	}
	if r := c.WebhookRetry; r.For <= 0 || r.For.D() > 6*24*time.Hour {
		add("webhook_retry.for", "must be positive and at most 6 days (the outbox keeps deliveries 7 days)")
	}
	if r := c.WebhookRetry; r.FirstDelay <= 0 {
		add("webhook_retry.first_delay", "must be positive")
	} else if r.MaxDelay < r.FirstDelay {
		add("webhook_retry.max_delay", "must be at least first_delay")
	}
	if j := c.WebhookRetry.Jitter; j < 0 || j > 1 {
		add("webhook_retry.jitter", "must be between 0 and 1")
	}
	for i, e := range c.Server.TrustedProxies {
		if _, err := clientip.ParsePrefix(e); err != nil {
			add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%v", err)
		}
	}
	if c.Server.AuthFailureLimit.Burst <= 0 {
		add("server.auth_failure_limit.burst", "must be positive")
	}
	for _, q := range []struct {
		path string
		v    int64
	}{
		{"quotas.integrations", int64(c.Quotas.Integrations)},
		{"quotas.connections", int64(c.Quotas.Connections)},
		{"quotas.connect_links_per_hour", int64(c.Quotas.ConnectLinksPerHour)},
		{"quotas.org_import_bytes", c.Quotas.OrgImportBytes},
	} {
		if q.v == 0 || q.v < -1 {
			add(q.path, "must be positive, or -1 for no limit")
		}
	}
	return errors.Join(errs...)
}

// minWebhookSecretLen is the shortest webhook signing secret accepted.
const minWebhookSecretLen = 16

func (c *Config) validateWebhook(i int, w Webhook) []error {
	var errs []error
	at := fmt.Sprintf("webhooks[%d]", i)
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", at, field, fmt.Sprintf(format, args...)))
	}
	if w.URL == "" {
		add("url", "is required")
	} else if err := provider.CheckURL(w.URL, c.Dev); err != nil {
		add("url", "%v", err)
	}
	secretField := "secret_env"
	if w.SecretEnv == "" && w.SecretFile != "" {
		secretField = "secret_file"
	}
	if !c.secretsResolved && w.Secret == "" {
		add("secret_env", "no signing secret (set secret_env or secret_file)")
	}
	if w.Secret != "" && len(w.Secret) < minWebhookSecretLen {
		add(secretField, "the signing secret is shorter than %d characters", minWebhookSecretLen)
	}
	seen := map[string]bool{}
	for j, e := range w.Events {
		path := fmt.Sprintf("events[%d]", j)
		switch {
		case !slices.Contains(notify.Types, e):
			add(path, "unknown event %q (known: %s)", e, strings.Join(notify.Types, ", "))
		case seen[e]:
			add(path, "%q is listed twice", e)
		}
		seen[e] = true
	}
	return errs
}

func (c *Config) validateIntegration(i int, in Integration, ids map[string]int, byName map[string]provider.Provider, resolved bool) []error {
	var errs []error
	at := fmt.Sprintf("integrations[%d]", i)
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", at, field, fmt.Sprintf(format, args...)))
	}
	switch {
	case in.ID == "":
		add("id", "is required")
	case !integrationIDRE.MatchString(in.ID):
		add("id", "%q must be lowercase letters, digits, dashes and underscores", in.ID)
	default:
		if j, dup := ids[in.ID]; dup {
			add("id", "%q is also the id of integrations[%d]", in.ID, j)
		} else {
			ids[in.ID] = i
		}
	}
	if in.ClientID == "" {
		add("client_id", "is required")
	}
	if !c.secretsResolved && in.ClientSecret == "" {
		add("client_secret_env", "no client secret (set client_secret_env or client_secret_file)")
	}
	for j, s := range in.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			add(fmt.Sprintf("scopes[%d]", j), "%q is not a single scope token", s)
		}
	}
	if strings.Contains(in.Audience, "*") {
		add("audience", "must not contain a wildcard")
	}
	seenTenant := map[string]bool{}
	for j, t := range in.Tenants {
		switch {
		case t == "" || strings.ContainsAny(t, " \t\r\n"):
			add(fmt.Sprintf("tenants[%d]", j), "%q is not a tenant id", t)
		case seenTenant[t]:
			add(fmt.Sprintf("tenants[%d]", j), "%q is listed twice", t)
		case t == "*" && len(in.Tenants) > 1:
			add(fmt.Sprintf("tenants[%d]", j), `"*" names every tenant and must be alone`)
		}
		seenTenant[t] = true
	}

	var p provider.Provider
	known := false
	switch {
	case in.Provider == "":
		add("provider", "is required")
	case resolved:
		if p, known = byName[in.Provider]; !known {
			names := slices.Sorted(maps.Keys(byName))
			add("provider", "unknown provider %q (known: %s)", in.Provider, strings.Join(names, ", "))
		}
	}
	if !known {
		return errs
	}
	hasPartnerToken := in.PartnerTokenEnv != "" || in.PartnerTokenFile != "" || in.PartnerToken != ""
	switch p.Grant {
	case provider.AuthorizationCode:
		if in.RedirectURI == "" {
			add("redirect_uri", "is required")
		} else if err := provider.CheckURL(in.RedirectURI, c.Dev); err != nil {
			add("redirect_uri", "%v", err)
		}
		if rs := p.RefreshToken.RequiresScope; rs != "" && len(in.Scopes) > 0 && !slices.Contains(in.Scopes, rs) {
			add("scopes", "must include %s, without which %s issues no refresh token", rs, p.Name)
		}
	case provider.PartnerRefreshBearer:
		if !hasPartnerToken {
			add("partner_token_env", "is required for %s (or partner_token_file)", p.Name)
		}
	}
	if p.Grant != provider.AuthorizationCode && in.RedirectURI != "" {
		add("redirect_uri", "is only used by authorization_code providers; %s uses %s", p.Name, p.Grant)
	}
	if p.Grant != provider.PartnerRefreshBearer && hasPartnerToken {
		add("partner_token_env", "is only used by partner_refresh_bearer providers; %s uses %s", p.Name, p.Grant)
	}
	return errs
}

func checkListen(addr string) error {
	if addr == "" {
		return errors.New("is required")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("%q has an invalid port", addr)
	}
	return nil
}

func checkDatabase(db string) error {
	if db == "" {
		return errors.New("is required (a SQLite path or a postgres:// URL)")
	}
	scheme, _, ok := strings.Cut(db, "://")
	if !ok {
		return nil // a SQLite file path
	}
	switch scheme {
	case "postgres", "postgresql":
		if _, err := url.Parse(db); err != nil {
			return errors.New("is not a valid postgres URL")
		}
		return nil
	default:
		return fmt.Errorf("unsupported scheme %q (want a SQLite path or postgres://)", scheme)
	}
}
