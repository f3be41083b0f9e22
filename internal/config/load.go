package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/grantd/grantd/internal/vault"
)

// Load reads the configuration with the precedence flags > environment >
// file > defaults:
//
//  1. [Default] values;
//  2. the YAML file at path, decoded strictly (skipped when path is "");
//  3. GRANTD_LISTEN, GRANTD_PUBLIC_URL, GRANTD_DATABASE, GRANTD_DEV,
//     GRANTD_LOG_LEVEL and GRANTD_LOG_FORMAT, when set;
//  4. overrides, in order: the command's flags;
//  5. [Config.ApplyDefaults], then the secrets named by *_env and *_file
//     fields, read through getenv and the file system;
//  6. [Config.Validate].
//
// It returns the config and every problem found, joined. getenv is
// os.Getenv in production; tests pass a map lookup.
func Load(path string, getenv func(string) string, overrides ...func(*Config)) (*Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if err := decode(b, c); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	c.applyEnv(getenv)
	for _, o := range overrides {
		o(c)
	}
	c.ApplyDefaults()
	c.ResolveSecrets(getenv)
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// Parse decodes YAML over [Default] strictly: an unknown field or a
// malformed value is an error that names its line. It applies neither the
// environment nor derived defaults nor secrets; [Load] does.
func Parse(b []byte) (*Config, error) {
	c := Default()
	if err := decode(b, c); err != nil {
		return nil, err
	}
	return c, nil
}

func decode(b []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return hintSecrets(explainUnknown(b, err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	return nil
}

// hintSecrets adds a hint to strict-decoding errors that name a field
// which looks like an inline secret.
func hintSecrets(err error) error {
	msg := err.Error()
	for _, f := range []string{"client_secret", "admin_key", "keys", "partner_token", "secret"} {
		if strings.Contains(msg, "field "+f+" ") || strings.Contains(msg, "."+f+": unknown field") ||
			strings.Contains(msg, ": "+f+": unknown field") {
			return fmt.Errorf("%w (secrets never go in the file: name an environment variable with *_env or a file with *_file)", err)
		}
	}
	return err
}

// envOverrides maps environment variables to the settings they override.
// Each names the YAML path it overrides (docs/configuration.md lists them).
var envOverrides = []struct {
	name, path string
	set        func(c *Config, v string) error
}{
	{"GRANTD_LISTEN", "listen", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"GRANTD_PUBLIC_URL", "public_url", func(c *Config, v string) error { c.PublicURL = v; return nil }},
	{"GRANTD_DATABASE", "database", func(c *Config, v string) error { c.Database = v; return nil }},
	{"GRANTD_LOG_LEVEL", "log_level", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"GRANTD_LOG_FORMAT", "log_format", func(c *Config, v string) error { c.LogFormat = v; return nil }},
	{"GRANTD_DEV", "dev", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", v)
		}
		c.Dev = b
		return nil
	}},
}

func (c *Config) applyEnv(getenv func(string) string) {
	for _, o := range envOverrides {
		v := getenv(o.name)
		if v == "" {
			continue
		}
		if err := o.set(c, v); err != nil {
			c.envProblems = append(c.envProblems, fmt.Errorf("environment variable %s: %w", o.name, err))
		}
	}
}

// ResolveSecrets reads every secret the config names (admin key, vault
// keys, client secrets, partner tokens, webhook signing secrets) through getenv or from files,
// replacing previously resolved values. A missing or unreadable secret is
// recorded and reported by [Config.Validate], naming the YAML path and the
// variable or file but never a value.
func (c *Config) ResolveSecrets(getenv func(string) string) {
	c.secretProblems = nil
	c.secretsResolved = true
	if v, ok := c.secret("admin_key", c.AdminKeyEnv, c.AdminKeyFile, getenv); ok {
		c.AdminKey = v
	}
	if v, ok := c.secret("vault.keys", c.Vault.KeysEnv, c.Vault.KeysFile, getenv); ok {
		keys, err := vault.ParseKeys(v.Reveal())
		if err != nil {
			c.secretProblems = append(c.secretProblems, fmt.Errorf("%s: %w", secretSource("vault.keys", c.Vault.KeysEnv, c.Vault.KeysFile), err))
		} else {
			c.Vault.Keys = keys
		}
	}
	for i := range c.Integrations {
		in := &c.Integrations[i]
		at := fmt.Sprintf("integrations[%d]", i)
		if v, ok := c.secret(at+".client_secret", in.ClientSecretEnv, in.ClientSecretFile, getenv); ok {
			in.ClientSecret = v
		}
		if in.PartnerTokenEnv != "" || in.PartnerTokenFile != "" {
			if v, ok := c.secret(at+".partner_token", in.PartnerTokenEnv, in.PartnerTokenFile, getenv); ok {
				in.PartnerToken = v
			}
		}
	}
	switch {
	case c.Connect.ResultSecretEnv != "" || c.Connect.ResultSecretFile != "":
		if v, ok := c.secret("connect.result_secret", c.Connect.ResultSecretEnv, c.Connect.ResultSecretFile, getenv); ok {
			c.Connect.ResultSecret = v
		}
	default:
		c.Connect.ResultSecret = Secret(getenv(DefaultResultSecretEnv))
	}
	if n := len(c.Connect.ResultSecret); n > 0 && n < 32 {
		c.secretProblems = append(c.secretProblems, fmt.Errorf("connect.result_secret: is %d bytes, at least 32 are needed", n))
	}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		if v, ok := c.secret(fmt.Sprintf("webhooks[%d].secret", i), w.SecretEnv, w.SecretFile, getenv); ok {
			w.Secret = v
		}
	}
}

// secret reads one secret named by field+"_env" or field+"_file". It
// reports false, recording why, when neither or both are set, or when the
// source is empty or unreadable. A file's trailing newline is dropped.
func (c *Config) secret(field, env, file string, getenv func(string) string) (Secret, bool) {
	switch {
	case env != "" && file != "":
		c.secretProblems = append(c.secretProblems, fmt.Errorf("%s_env and %s_file: set only one", field, field))
		return "", false
	case env != "":
		v := getenv(env)
		if v == "" {
			c.secretProblems = append(c.secretProblems, fmt.Errorf("%s_env: environment variable %s is empty", field, env))
			return "", false
		}
		return Secret(v), true
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			c.secretProblems = append(c.secretProblems, fmt.Errorf("%s_file: %w", field, err))
			return "", false
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			c.secretProblems = append(c.secretProblems, fmt.Errorf("%s_file: file %s is empty", field, file))
			return "", false
		}
		return Secret(v), true
	default:
		c.secretProblems = append(c.secretProblems, fmt.Errorf("%s_env: is required (or %s_file)", field, field))
		return "", false
	}
}

func secretSource(field, env, file string) string {
	if env != "" {
		return fmt.Sprintf("%s_env: environment variable %s", field, env)
	}
	return fmt.Sprintf("%s_file: file %s", field, file)
}
