package rotate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// MetaReplicaPrefix begins the store meta key under which each serving
// grantd process records itself: MetaReplicaPrefix + [Replica.Owner].
const MetaReplicaPrefix = "replica/"

// ReplicaStaleAfter is how long after its last heartbeat a replica that
// did not record a clean stop is still taken to be running. Replicas
// write a heartbeat every 30 s, so it allows three to be missed.
const ReplicaStaleAfter = 2 * time.Minute

// Replica is what a serving grantd process records about itself, so that
// [CheckReplicas] can tell whether every running replica can open values
// sealed under a key before [Rewrap] moves everything under it. It names
// the keys by id only: it never holds key material or anything derived
// from one key, such as a fingerprint.
type Replica struct {
	// Owner is the process's name in refresh leases, unique per process.
	Owner string `json:"owner"`
	// KeyIDs are the ids of the keys in the process's keyring, ascending.
	KeyIDs []uint32 `json:"key_ids"`
	// Primary is the id of the key the process seals new values under.
	Primary  uint32 `json:"primary_key_id"`
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
	Version  string `json:"version"`
	// StartedAt is when the process started serving; SeenAt its latest
	// heartbeat.
	StartedAt time.Time `json:"started_at"`
	SeenAt    time.Time `json:"seen_at"`
	// Stopped is set by a clean shutdown, after the process has stopped
	// opening and sealing values.
	Stopped bool `json:"stopped"`
}

// HasKey reports whether the replica holds the key with that id.
func (r Replica) HasKey(id uint32) bool { return slices.Contains(r.KeyIDs, id) }

// PutReplica records r under its meta key, replacing the previous record.
func PutReplica(ctx context.Context, st store.Store, r Replica) error {
	if r.Owner == "" {
		return fmt.Errorf("replica record without an owner")
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode replica %s: %w", r.Owner, err)
	}
	if err := st.PutMeta(ctx, MetaReplicaPrefix+r.Owner, string(b)); err != nil {
		return fmt.Errorf("record replica %s: %w", r.Owner, err)
	}
	return nil
}

// ListReplicas returns every recorded replica, running or not, ordered by
// owner. A record that does not decode is an error naming its key.
func ListReplicas(ctx context.Context, st store.Store) ([]Replica, error) {
	m, err := st.ListMeta(ctx, MetaReplicaPrefix)
	if err != nil {
		return nil, fmt.Errorf("list replicas: %w", err)
	}
	out := make([]Replica, 0, len(m))
	for k, v := range m {
		var r Replica
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("replica record %s: %w", k, err)
		}
		if r.Owner == "" {
			r.Owner = strings.TrimPrefix(k, MetaReplicaPrefix)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Replica) int { return cmp.Compare(a.Owner, b.Owner) })
	return out, nil
}

// ReplicaStatus is one recorded replica as [CheckReplicas] judged it.
type ReplicaStatus struct {
	Replica
	// Live is set when the replica has not stopped and was seen within
	// the staleness limit.
	Live bool `json:"live"`
	// HasPrimary is set when the replica holds the key the rewrap seals
	// under.
	HasPrimary bool `json:"has_primary"`
	// SeenAgo is how long before the check the replica was last seen
	// (negative when its clock is ahead).
	SeenAgo time.Duration `json:"-"`
	// SeenAgoSeconds is SeenAgo in whole seconds, for JSON output.
	SeenAgoSeconds int64 `json:"seen_ago_seconds"`
}

// CheckReplicas is the safety check before [Rewrap] (ENC-05): once every
// value is sealed under primary, a running replica without that key can
// open none of them and fails every request that needs one. It returns
// every recorded replica, live ones first (ordered by owner within each
// group), and a [*MissingKeyError] when a live replica does not hold
// primary. A replica is live when it has not recorded a clean stop and
// was seen no more than staleAfter before now; the others (stopped, or
// gone without a clean stop) are returned but never block. Records are
// not pruned: each is one small row per process start.
func CheckReplicas(ctx context.Context, st store.Store, primary uint32, now time.Time, staleAfter time.Duration) ([]ReplicaStatus, error) {
	rs, err := ListReplicas(ctx, st)
	if err != nil {
		return nil, err
	}
	out := make([]ReplicaStatus, 0, len(rs))
	var missing []ReplicaStatus
	for _, r := range rs {
		ago := now.Sub(r.SeenAt)
		s := ReplicaStatus{
			Replica:        r,
			Live:           !r.Stopped && ago <= staleAfter,
			HasPrimary:     r.HasKey(primary),
			SeenAgo:        ago,
			SeenAgoSeconds: int64(ago / time.Second),
		}
		out = append(out, s)
		if s.Live && !s.HasPrimary {
			missing = append(missing, s)
		}
	}
	slices.SortStableFunc(out, func(a, b ReplicaStatus) int {
		switch {
		case a.Live == b.Live:
			return 0
		case a.Live:
			return -1
		}
		return 1
	})
	if len(missing) > 0 {
		return out, &MissingKeyError{Primary: primary, Replicas: missing}
	}
	return out, nil
}

// MissingKeyError is [CheckReplicas]'s refusal: live replicas that do not
// hold the key a rewrap would seal everything under.
type MissingKeyError struct {
	Primary  uint32
	Replicas []ReplicaStatus
}

func (e *MissingKeyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d running replica(s) do not hold key %d, the primary key the rewrap would seal every value under, "+
		"and could open nothing afterwards:", len(e.Replicas), e.Primary)
	for _, r := range e.Replicas {
		fmt.Fprintf(&b, " %s;", r.Describe())
	}
	fmt.Fprintf(&b, " restart each with key %d in its vault keys (or stop it) and run the rewrap again", e.Primary)
	return b.String()
}

// Describe names the replica for an operator: owner, host, process, when
// it was last seen and the keys it holds.
func (s ReplicaStatus) Describe() string {
	return fmt.Sprintf("replica %s on host %s (pid %d, version %s) seen %ds ago, holding keys %s",
		s.Owner, cmp.Or(s.Hostname, "?"), s.PID, cmp.Or(s.Version, "?"), s.SeenAgoSeconds, FormatKeyIDs(s.KeyIDs))
}

// FormatKeyIDs writes key ids as "[1 2]" ("[]" for none).
func FormatKeyIDs(ids []uint32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
