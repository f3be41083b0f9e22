package main

import (
	"context"
	"flag"
	"fmt"
	grantd "github.com/grantd/grantd/client"
	"os"
	"strings"
)

// cmdIntegrationsChange changes or deletes an integration through the API
// (PATCH and DELETE /v1/integrations/{id}): a tenant key its own, the
// admin key the operator's. Secrets are never command-line arguments,
// which other users of the machine can read: they come from an
// environment variable or a file.
func cmdIntegrationsChange(ctx context.Context, e *env, sub string, args []string) error {
	args = append([]string{sub}, args...)
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
	if sub == "delete" {
		out, err := c.DeleteIntegration(ctx, pos[0], cascade)
		if err != nil {
			return err
		}
		if rf.asJSON {
			return writeJSON(e.stdout, out)
		}
		fmt.Fprintf(e.stdout, "deleted %s (%d connections deleted, %d revoked at the provider)\n", out.ID, out.ConnectionsDeleted, out.ConnectionsRevoked)
		return nil
	}

	var u grantd.IntegrationUpdate
	changed := false
	for flagName, field := range map[string]**string{"name": &u.Name, "client-id": &u.ClientID, "redirect-uri": &u.RedirectURI, "audience": &u.Audience} {
		if set[flagName] {
			v := map[string]string{"name": name, "client-id": clientID, "redirect-uri": redirect, "audience": audience}[flagName]
			*field, changed = &v, true
		}
	}
	if set["scopes"] {
		list := strings.Fields(scopes)
		u.Scopes, changed = &list, true
	}
	if set["default"] {
		u.IsDefault, changed = &isDefault, true
	}
	for _, s := range []struct {
		field                        **string
		envFlag, env, fileFlag, file string
	}{
		{&u.ClientSecret, "client-secret-env", secretEnv, "client-secret-file", secretFile},
		{&u.PartnerToken, "partner-token-env", partnerEnv, "partner-token-file", partnerFile},
	} {
		v, ok, err := secretFrom(e, s.envFlag, s.env, s.fileFlag, s.file)
		if err != nil {
			return err
		}
		if ok {
			*s.field, changed = &v, true
		}
	}
	if !changed {
		return usagef("nothing to change: pass at least one flag")
	}
	out, err := c.UpdateIntegration(ctx, pos[0], u)
	if err != nil {
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
