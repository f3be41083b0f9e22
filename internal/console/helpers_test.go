package console_test

import "github.com/grantd/grantd/internal/vault"

func vaultAAD(integrationID string) string {
	return vault.AAD("integration", integrationID, "client_secret")
}
