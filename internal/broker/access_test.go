package broker_test

import (
	"testing"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

// TestOperatorIntegrationTenantsSEC43: once an operator integration's
// tenants list leaves a tenant out, the tenant's connections through it
// are not found (get, token, list), it is not listed, and no connect link
// can be made for the tenant, not even by the operator; the operator
// still reaches the connection; listing the tenant again restores it.
func TestOperatorIntegrationTenantsSEC43(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	op := broker.AsOperator(ctx)
	c := e.connect(ctx)
	restrict := func(tenants ...string) *broker.Broker {
		t.Helper()
		err := e.st.UpdateIntegration(ctx, e.integ.ID, func(in store.Integration) (store.Integration, error) {
			in.TenantsListed, in.Tenants = true, tenants
			return in, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return e.newBroker("restricted", -1) // a fresh integration cache
	}

	b := restrict("ten_other")
	if _, err := b.Connection(ctx, e.tenant, c.ID); broker.CodeOf(err) != broker.CodeNotFound {
		t.Errorf("Connection = %v, want not_found", err)
	}
	if _, err := b.TenantToken(ctx, e.tenant, c.ID); broker.CodeOf(err) != broker.CodeNotFound {
		t.Errorf("TenantToken = %v, want not_found", err)
	}
	if cs, err := b.Connections(ctx, e.tenant); err != nil || len(cs) != 0 {
		t.Errorf("Connections = %d, %v; want none", len(cs), err)
	}
	if ins, err := b.Integrations(ctx, e.tenant); err != nil || len(ins) != 0 {
		t.Errorf("Integrations = %d, %v; want none", len(ins), err)
	}
	if _, err := b.CreateLink(ctx, e.tenant, broker.LinkRequest{IntegrationID: e.integ.ID}); broker.CodeOf(err) != broker.CodeNotFound {
		t.Errorf("CreateLink = %v, want not_found", err)
	}
	if _, err := b.CreateLink(op, e.tenant, broker.LinkRequest{IntegrationID: e.integ.ID}); broker.CodeOf(err) != broker.CodeInvalidRequest {
		t.Errorf("CreateLink as the operator = %v, want invalid_request (the link is for the tenant's user)", err)
	}
	if _, err := b.Connection(op, e.tenant, c.ID); err != nil {
		t.Errorf("Connection as the operator = %v", err)
	}
	if got, err := e.st.GetConnection(ctx, c.ID); err != nil || got.Version != c.Version {
		t.Errorf("connection after the refusals = v%d, %v; want v%d untouched", got.Version, err, c.Version)
	}

	b = restrict(e.tenant)
	if _, err := b.TenantToken(ctx, e.tenant, c.ID); err != nil {
		t.Errorf("TenantToken once listed = %v", err)
	}
	if _, err := b.CreateLink(ctx, e.tenant, broker.LinkRequest{IntegrationID: e.integ.ID}); err != nil {
		t.Errorf("CreateLink once listed = %v", err)
	}
}
