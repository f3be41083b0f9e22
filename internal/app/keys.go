package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// MetaVaultFingerprint is the store meta key holding the keyring's
// fingerprint ([vault.Keyring.Fingerprint]), written on first start and
// checked on every later one.
const MetaVaultFingerprint = "vault_fingerprint"

// keyring builds the vault from the keys the config resolved.
func keyring(cfg *config.Config) (*vault.Keyring, error) {
	if len(cfg.Vault.Keys) == 0 {
		return nil, fmt.Errorf("no vault keys in %s: generate one with \"grantd keys generate\" and put it there", keySource(cfg))
	}
	kr, err := vault.New(cfg.Vault.Keys, cfg.Vault.Primary)
	if err != nil {
		return nil, fmt.Errorf("vault keys in %s: %w", keySource(cfg), err)
	}
	return kr, nil
}

// keySource names where the vault keys come from, for error messages.
func keySource(cfg *config.Config) string {
	if cfg.Vault.KeysFile != "" {
		return "file " + cfg.Vault.KeysFile
	}
	if cfg.Vault.KeysEnv != "" {
		return "$" + cfg.Vault.KeysEnv
	}
	return "the config"
}

// checkKeyring refuses a keyring that is not the one the data in st was
// sealed with (ENC-06). The first start records the keyring's
// fingerprint; later starts compare with it and record it again when keys
// were added. A database that has sealed data but no fingerprint (written
// by an older grantd, or whose meta row was lost) is checked by opening one
// sealed value instead. Nothing is re-encrypted or overwritten on failure.
func checkKeyring(ctx context.Context, st store.Store, kr *vault.Keyring, source string, log *slog.Logger) error {
	stored, err := st.GetMeta(ctx, MetaVaultFingerprint)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("read vault fingerprint: %w", err)
	}
	if stored != "" {
		if err := kr.Check(stored); err != nil {
			return fmt.Errorf("refusing to start: the vault keys in %s are not the keys this database was sealed with "+
				"(restore them; to rotate, add a key with a higher id and keep the old ones until grantd keys rewrap has moved everything): %w", source, err)
		}
	} else if err := probeSealed(ctx, st, kr); err != nil {
		return fmt.Errorf("refusing to start: the vault keys in %s cannot open data already in this database: %w", source, err)
	}
	fp := kr.Fingerprint()
	if fp == stored {
		return nil
	}
	if err := st.PutMeta(ctx, MetaVaultFingerprint, fp); err != nil {
		return fmt.Errorf("store vault fingerprint: %w", err)
	}
	if stored == "" {
		log.InfoContext(ctx, "vault fingerprint recorded", "key_ids", kr.IDs(), "primary_key_id", kr.Primary())
	} else {
		log.InfoContext(ctx, "vault keyring changed", "key_ids", kr.IDs(), "primary_key_id", kr.Primary())
	}
	return nil
}

// probeSealed opens one sealed value of the store, if there is one: an
// operator integration's client secret or a connection's access token.
func probeSealed(ctx context.Context, st store.Store, kr *vault.Keyring) error {
	ins, err := st.ListIntegrations(ctx, "")
	if err != nil {
		return fmt.Errorf("list integrations: %w", err)
	}
	for _, in := range ins {
		if len(in.ClientSecret) > 0 {
			_, err := kr.Open(in.ClientSecret, vault.AAD("integration", in.ID, "client_secret"))
			return err
		}
	}
	// One row is enough, and a large fleet must not be read whole.
	cs, err := st.ListConnections(ctx, store.ConnectionFilter{Status: store.StatusActive, Limit: 1})
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	for _, c := range cs {
		if len(c.AccessToken) > 0 {
			_, err := kr.Open(c.AccessToken, vault.AAD("connection", c.ID, "access_token"))
			return err
		}
	}
	return nil
}
