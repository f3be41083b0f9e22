package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// syncIntegrations writes the operator integrations of the config into the
// store: new ones are created, existing ones updated in place (so their
// connections stay attached), each client secret sealed under the primary
// key with AAD "integration:<id>:client_secret" and each Daxko partner
// token with "integration:<id>:partner_token". The first integration of
// each provider in config order is the operator's default for it.
// Integrations removed from the config are left in the store, since
// connections may still use them; they are logged.
func syncIntegrations(ctx context.Context, st store.Store, kr *vault.Keyring, reg *provider.Registry, ins []config.Integration, now time.Time, log *slog.Logger) error {
	now = now.UTC()
	defaults := map[string]bool{}
	var errs []error
	for i, ci := range ins {
		p, ok := reg.Get(ci.Provider)
		if !ok {
			errs = append(errs, fmt.Errorf("integrations[%d]: unknown provider %q", i, ci.Provider))
			continue
		}
		want := store.Integration{
			ID:          ci.ID,
			Provider:    p.Name,
			Name:        ci.Name,
			ClientID:    ci.ClientID,
			RedirectURI: ci.RedirectURI,
			Scopes:      ci.Scopes,
			Audience:    ci.Audience,
			IsDefault:   !defaults[p.Name],
			// A nil list leaves the grant's default (see broker.MayUse).
			TenantsListed: ci.Tenants != nil,
			Tenants:       ci.Tenants,
			UpdatedAt:     now,
		}
		defaults[p.Name] = true
		if want.Name == "" {
			want.Name = p.DisplayName
		}
		if len(want.Scopes) == 0 {
			want.Scopes = p.Scopes
		}
		if want.Audience == "" {
			want.Audience = p.Audience
		}
		if secret := ci.ClientSecret.Reveal(); secret != "" {
			sealed, err := kr.Seal([]byte(secret), vault.AAD("integration", ci.ID, "client_secret"))
			if err != nil {
				errs = append(errs, fmt.Errorf("integration %s: seal client secret: %w", ci.ID, err))
				continue
			}
			want.ClientSecret = sealed
		}
		if token := ci.PartnerToken.Reveal(); token != "" {
			sealed, err := kr.Seal([]byte(token), vault.AAD("integration", ci.ID, "partner_token"))
			if err != nil {
				errs = append(errs, fmt.Errorf("integration %s: seal partner token: %w", ci.ID, err))
				continue
			}
			want.PartnerToken = sealed
		}
		if err := upsertIntegration(ctx, st, want); err != nil {
			errs = append(errs, err)
			continue
		}
		log.DebugContext(ctx, "integration synced", "integration_id", want.ID, "provider", want.Provider)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sync integrations: %w", err)
	}
	existing, err := st.ListIntegrations(ctx, "")
	if err != nil {
		return fmt.Errorf("sync integrations: %w", err)
	}
	for _, in := range existing {
		if in.TenantID == "" && !slices.ContainsFunc(ins, func(ci config.Integration) bool { return ci.ID == in.ID }) {
			log.WarnContext(ctx, "operator integration is no longer configured; left in the store", "integration_id", in.ID, "provider", in.Provider)
		}
	}
	return nil
}

// upsertIntegration creates want or updates the operator integration with
// its id. An id taken by a tenant's own integration is an error.
func upsertIntegration(ctx context.Context, st store.Store, want store.Integration) error {
	_, err := st.GetIntegration(ctx, want.ID)
	if errors.Is(err, store.ErrNotFound) {
		want.CreatedAt = want.UpdatedAt
		if err := st.CreateIntegration(ctx, want); err != nil {
			return fmt.Errorf("integration %s: %w", want.ID, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("integration %s: %w", want.ID, err)
	}
	err = st.UpdateIntegration(ctx, want.ID, func(in store.Integration) (store.Integration, error) {
		if in.TenantID != "" {
			return in, fmt.Errorf("id %s belongs to a tenant's integration", in.ID)
		}
		want.CreatedAt = in.CreatedAt
		return want, nil
	})
	if err != nil {
		return fmt.Errorf("integration %s: %w", want.ID, err)
	}
	return nil
}
