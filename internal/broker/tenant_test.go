package broker_test

import (
	"testing"

	"github.com/grantd/grantd/internal/broker"
)

// TestOtherTenantTokenRefreshesNothing is SEC-43: asking for another
// tenant's connection by id is not found, and has no effect on that
// connection either: its expired token is not refreshed on the other
// tenant's behalf (nor, on invalid_grant, its status changed).
func TestOtherTenantTokenRefreshesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.connect(ctx)
	e.expire()
	if _, err := e.b.TenantToken(ctx, "ten_other", c.ID); broker.CodeOf(err) != broker.CodeNotFound {
		t.Errorf("TenantToken(ten_other, %s) = %v, want not_found", c.ID, err)
	}
	if n := e.tokenRequests("refresh_token"); n != 0 {
		t.Errorf("another tenant's request sent %d refresh requests, want 0", n)
	}
	got, err := e.st.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != c.Version {
		t.Errorf("connection version = %d after another tenant's request, want %d", got.Version, c.Version)
	}
}
