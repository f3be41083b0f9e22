package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// cmdIntegrations changes or deletes an integration through the API
// (PATCH and DELETE /v1/integrations/{id}): a tenant key its own, the
// admin key the operator's. Secrets are never command-line arguments,
// which other users of the machine can read: they come from an
// environment variable or a file.
func cmdIntegrations(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "update" && args[0] != "delete") {
		return usagef("want \"integrations update ID [flags]\" or \"integrations delete ID [--cascade]\"")
	}
	sub := args[0]
	fs := newFlags(e, "integrations "+sub)
	rf := addRemoteFlags(fs, e)
	var (
		set                      = map[string]bool{}
		name, clientID, redirect string
		audience, scopes         string
		secretEnv, secretFile    string
		partnerEnv, partnerFile  string
		isDefault, cascade       bool
	)
	if sub == "update" {
		fs.StringVar(&name, "name", "", "display name")
		fs.StringVar(&clientID, "client-id", "", "OAuth client id")
		fs.StringVar(&secretEnv, "client-secret-env", "", "environment variable holding the new client secret")
		fs.StringVar(&secretFile, "client-secret-file", "", "file holding the new client secret")
		fs.StringVar(&partnerEnv, "partner-token-env", "", "environment variable holding the new partner token (daxko)")
		fs.StringVar(&partnerFile, "partner-token-file", "", "file holding the new partner token (daxko)")
		fs.StringVar(&redirect, "redirect-uri", "", "redirect URI (\"\" restores the default)")
		fs.StringVar(&audience, "audience", "", "token audience")
		fs.StringVar(&scopes, "scopes", "", "space-separated scopes")
		fs.BoolVar(&isDefault, "default", false, "make it (or, with --default=false, stop it being) the default for its provider")
	} else {
		fs.BoolVar(&cascade, "cascade", false, "also revoke and delete the connections that use it")
	}
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one integration id")
	}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	path := "/v1/integrations/" + url.PathEscape(pos[0])
	if sub == "delete" {
		if cascade {
			path += "?cascade=true"
		}
		var out struct {
			ID                 string `json:"id"`
			ConnectionsDeleted int    `json:"connections_deleted"`
			ConnectionsRevoked int    `json:"connections_revoked"`
		}
		if err := c.do(ctx, "DELETE", path, nil, &out); err != nil {
			return err
		}
		if rf.asJSON {
			return writeJSON(e.stdout, out)
		}
		fmt.Fprintf(e.stdout, "deleted %s (%d connections deleted, %d revoked at the provider)\n", out.ID, out.ConnectionsDeleted, out.ConnectionsRevoked)
		return nil
	}

	body := map[string]any{}
	for flagName, field := range map[string]string{"name": "name", "client-id": "client_id", "redirect-uri": "redirect_uri", "audience": "audience"} {
		if set[flagName] {
			body[field] = map[string]string{"name": name, "client-id": clientID, "redirect-uri": redirect, "audience": audience}[flagName]
		}
	}
	if set["scopes"] {
		body["scopes"] = strings.Fields(scopes)
	}
	if set["default"] {
		body["is_default"] = isDefault
	}
	for _, s := range []struct{ field, envFlag, env, fileFlag, file string }{
		{"client_secret", "client-secret-env", secretEnv, "client-secret-file", secretFile},
		{"partner_token", "partner-token-env", partnerEnv, "partner-token-file", partnerFile},
	} {
		v, ok, err := secretFrom(e, s.envFlag, s.env, s.fileFlag, s.file)
		if err != nil {
			return err
		}
		if ok {
			body[s.field] = v
		}
	}
	if len(body) == 0 {
		return usagef("nothing to change: pass at least one flag")
	}
	var out struct {
		ID                 string `json:"id"`
		Provider           string `json:"provider"`
		IsDefault          bool   `json:"is_default"`
		CredentialsChecked bool   `json:"credentials_checked"`
		CredentialsCheck   string `json:"credentials_check"`
		LastError          string `json:"last_error"`
	}
	if err := c.do(ctx, "PATCH", path, body, &out); err != nil {
		return err
	}
	if rf.asJSON {
		return writeJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "updated %s (%s, default %v)\n", out.ID, out.Provider, out.IsDefault)
	if out.CredentialsChecked {
		fmt.Fprintln(e.stdout, "credentials checked: the provider issued a token")
	} else if out.CredentialsCheck != "" {
		fmt.Fprintln(e.stdout, "credentials "+out.CredentialsCheck)
	}
	return nil
}

// secretFrom reads a secret from the environment variable env or the file
// file (at most one), trimming one trailing newline from a file. ok is
// false when neither is given.
func secretFrom(e *env, envFlag, env, fileFlag, file string) (string, bool, error) {
	switch {
	case env != "" && file != "":
		return "", false, usagef("pass only one of --%s and --%s", envFlag, fileFlag)
	case env != "":
		v := e.getenv(env)
		if v == "" {
			return "", false, fmt.Errorf("--%s: environment variable %s is empty", envFlag, env)
		}
		return v, true, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", false, fmt.Errorf("--%s: %w", fileFlag, err)
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if v == "" {
			return "", false, fmt.Errorf("--%s: %s is empty", fileFlag, file)
		}
		return v, true, nil
	}
	return "", false, nil
}
