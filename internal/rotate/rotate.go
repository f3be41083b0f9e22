package rotate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// Report says what a run did and what is left.
type Report struct {
	// Resealed counts values moved under the primary key.
	Resealed int `json:"resealed"`
	// ByKey counts sealed values per key id after the run.
	ByKey map[uint32]int `json:"by_key"`
	// Primary is the key everything should be under.
	Primary uint32 `json:"primary"`
}

// Done reports whether every sealed value is under the primary key.
func (r Report) Done() bool {
	for id, n := range r.ByKey {
		if id != r.Primary && n > 0 {
			return false
		}
	}
	return true
}

// field is one sealed column of a row, with the associated data it was
// sealed with.
type field struct {
	ct  *store.Sealed
	aad string
}

func connectionFields(c *store.Connection) []field {
	aad := func(f string) string { return vault.AAD("connection", c.ID, f) }
	return []field{
		{&c.AccessToken, aad("access_token")},
		{&c.RefreshToken, aad("refresh_token")},
		{&c.IDToken, aad("id_token")},
	}
}

func integrationFields(in *store.Integration) []field {
	return []field{{&in.ClientSecret, vault.AAD("integration", in.ID, "client_secret")}}
}

// reseal moves every field not under the primary key; it reports how many
// it moved.
func reseal(kr *vault.Keyring, fs []field) (int, error) {
	n := 0
	for _, f := range fs {
		if len(*f.ct) == 0 {
			continue
		}
		id, err := kr.KeyID(*f.ct)
		if err != nil {
			return n, err
		}
		if id == kr.Primary() {
			continue
		}
		ct, err := kr.Rewrap(*f.ct, f.aad)
		if err != nil {
			return n, err
		}
		*f.ct = ct
		n++
	}
	return n, nil
}

// Rewrap reseals every connection's tokens and every integration's client
// secret under kr's primary key. Rows are updated one at a time with the
// store's version check; a row that changes underneath is retried. A
// connection whose refresh lease is held is waited for until the lease is
// released or lapses: the refresh in flight stores its new tokens only if
// the row's version has not moved, so a rewrap in between would make it
// lose a refresh token the provider has already rotated. Connect sessions
// are not resealed: they live ten minutes, so keep the old key that long
// after making the new one primary.
func Rewrap(ctx context.Context, st store.Store, kr *vault.Keyring) (Report, error) {
	rep := Report{Primary: kr.Primary()}
	conns, err := st.ListConnections(ctx, store.ConnectionFilter{})
	if err != nil {
		return rep, fmt.Errorf("list connections: %w", err)
	}
	for _, c := range conns {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		for attempt := 0; ; attempt++ {
			moved := 0
			_, err := st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
				if cur.LeaseOwner != "" && time.Now().Before(cur.LeaseExpiresAt) {
					return cur, errLeased
				}
				n, err := reseal(kr, connectionFields(&cur))
				if err != nil {
					return cur, err
				}
				if n == 0 {
					return cur, errUnchanged
				}
				moved = n
				return cur, nil
			})
			if errors.Is(err, errLeased) {
				select {
				case <-ctx.Done():
					return rep, ctx.Err()
				case <-time.After(leasePoll):
				}
				attempt--
				continue
			}
			if errors.Is(err, store.ErrConflict) && attempt < 5 {
				continue
			}
			if errors.Is(err, errUnchanged) || errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				return rep, fmt.Errorf("connection %s: %w", c.ID, err)
			}
			rep.Resealed += moved
			break
		}
	}
	ins, err := allIntegrations(ctx, st)
	if err != nil {
		return rep, err
	}
	for _, in := range ins {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		moved := 0
		err := st.UpdateIntegration(ctx, in.ID, func(cur store.Integration) (store.Integration, error) {
			n, err := reseal(kr, integrationFields(&cur))
			if err != nil {
				return cur, err
			}
			if n == 0 {
				return cur, errUnchanged
			}
			moved = n
			return cur, nil
		})
		if err != nil && !errors.Is(err, errUnchanged) {
			return rep, fmt.Errorf("integration %s: %w", in.ID, err)
		}
		rep.Resealed += moved
	}
	rep.ByKey, err = Inventory(ctx, st, kr)
	return rep, err
}

// errUnchanged aborts an update that has nothing to write.
var errUnchanged = errors.New("already under the primary key")

// errLeased aborts an update of a connection that is being refreshed.
var errLeased = errors.New("refresh lease held")

// leasePoll is how often Rewrap looks again at a connection being
// refreshed.
const leasePoll = 50 * time.Millisecond

// Inventory counts stored sealed values by the id of the key that sealed
// them, without opening any.
func Inventory(ctx context.Context, st store.Store, kr *vault.Keyring) (map[uint32]int, error) {
	out := map[uint32]int{}
	count := func(fs []field) error {
		for _, f := range fs {
			if len(*f.ct) == 0 {
				continue
			}
			id, err := kr.KeyID(*f.ct)
			if err != nil {
				return err
			}
			out[id]++
		}
		return nil
	}
	conns, err := st.ListConnections(ctx, store.ConnectionFilter{})
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	for i := range conns {
		if err := count(connectionFields(&conns[i])); err != nil {
			return nil, fmt.Errorf("connection %s: %w", conns[i].ID, err)
		}
	}
	ins, err := allIntegrations(ctx, st)
	if err != nil {
		return nil, err
	}
	for i := range ins {
		if err := count(integrationFields(&ins[i])); err != nil {
			return nil, fmt.Errorf("integration %s: %w", ins[i].ID, err)
		}
	}
	return out, nil
}

// allIntegrations lists the operator's and every tenant's integrations.
func allIntegrations(ctx context.Context, st store.Store) ([]store.Integration, error) {
	byID := map[string]store.Integration{}
	add := func(tenantID string) error {
		ins, err := st.ListIntegrations(ctx, tenantID)
		if err != nil {
			return fmt.Errorf("list integrations: %w", err)
		}
		for _, in := range ins {
			byID[in.ID] = in
		}
		return nil
	}
	if err := add(""); err != nil {
		return nil, err
	}
	ts, err := st.ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	for _, t := range ts {
		if err := add(t.ID); err != nil {
			return nil, err
		}
	}
	ids := slices.Sorted(maps.Keys(byID))
	out := make([]store.Integration, 0, len(ids))
	for _, id := range ids {
		out = append(out, byID[id])
	}
	return out, nil
}
