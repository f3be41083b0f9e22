package store

import (
	"context"
	"time"
)

// BillingLine is one line of what a tenant bills one of its organisations
// for a period (a month, "2026-11"): Quantity units of the tenant's
// product Product at UnitPrice each. Quantity and UnitPrice are exact
// decimal numbers kept as text ("12", "19.99"), never floats.
type BillingLine struct {
	TenantID  string
	Period    string
	Line      int // 1-based, in upload order
	OrgID     string
	Product   string
	Quantity  string
	UnitPrice string
}

// ProductMapping links a tenant's product key (what its billing lines
// name) to a provider-side product (a Pax8 product id), per connection.
type ProductMapping struct {
	TenantID     string
	ConnectionID string
	ProductKey   string
	ExternalID   string // the Pax8 product id
	ExternalName string
	UpdatedAt    time.Time
}

// BillingStore keeps what tenants bill and how their products map to the
// provider's, for billing reconciliation. It is part of [Store].
type BillingStore interface {
	// PutBilling replaces the tenant's billing lines for period with lines
	// (their TenantID and Period are ignored) in one transaction; an
	// empty lines clears the period. Lines keep their Line numbers.
	PutBilling(ctx context.Context, tenantID, period string, lines []BillingLine) error
	// ListBilling returns the tenant's billing lines for period by Line.
	ListBilling(ctx context.Context, tenantID, period string) ([]BillingLine, error)
	// PutProductMapping inserts m or replaces the mapping with the same
	// ConnectionID and ProductKey. The connection must exist (ErrNotFound
	// otherwise). A zero UpdatedAt is the current time.
	PutProductMapping(ctx context.Context, m ProductMapping) error
	// DeleteProductMapping removes one mapping or returns ErrNotFound.
	DeleteProductMapping(ctx context.Context, connectionID, productKey string) error
	// ListProductMappings returns the connection's product mappings by
	// ProductKey.
	ListProductMappings(ctx context.Context, connectionID string) ([]ProductMapping, error)
}
