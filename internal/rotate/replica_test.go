package rotate_test

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/rotate"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
)

// TestCheckReplicasENC05 is the replica check before a rewrap under key 2:
// a live replica without key 2 blocks it and is named in the error;
// replicas that stopped cleanly or were last seen longer ago than the
// staleness limit never block.
func TestCheckReplicasENC05(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	rec := func(owner string, seenAgo time.Duration, stopped bool, keys ...uint32) rotate.Replica {
		return rotate.Replica{
			Owner: owner, KeyIDs: keys, Primary: keys[len(keys)-1], Hostname: "host-" + owner, PID: 100 + len(owner),
			Version: "v1.2.3", StartedAt: now.Add(-time.Hour), SeenAt: now.Add(-seenAgo), Stopped: stopped,
		}
	}
	for _, tc := range []struct {
		name     string
		replicas []rotate.Replica
		live     []string // owners reported live, in order
		blocking []string // owners named in the refusal; none means no refusal
	}{
		{"none recorded", nil, nil, nil},
		{"all live replicas hold the primary", []rotate.Replica{
			rec("a", 10*time.Second, false, 1, 2),
			rec("b", 90*time.Second, false, 2),
		}, []string{"a", "b"}, nil},
		{"live replica without the primary", []rotate.Replica{
			rec("a", 10*time.Second, false, 1, 2),
			rec("old", 5*time.Second, false, 1),
		}, []string{"a", "old"}, []string{"old"}},
		{"two live replicas without the primary", []rotate.Replica{
			rec("x", 0, false, 1),
			rec("y", 119*time.Second, false, 1),
		}, []string{"x", "y"}, []string{"x", "y"}},
		{"stopped and stale replicas are ignored", []rotate.Replica{
			rec("a", 10*time.Second, false, 1, 2),
			rec("stopped", 1*time.Second, true, 1),
			rec("stale", 121*time.Second, false, 1),
			rec("ancient", 72*time.Hour, false, 1),
		}, []string{"a"}, nil},
		{"a clock ahead counts as seen now", []rotate.Replica{
			rec("ahead", -30*time.Second, false, 1),
		}, []string{"ahead"}, []string{"ahead"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := sqlstore.Open(t.Context(), storetest.NewSQLite(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			for _, r := range tc.replicas {
				if err := rotate.PutReplica(t.Context(), st, r); err != nil {
					t.Fatal(err)
				}
			}
			// Other meta values are not replicas.
			if err := st.PutMeta(t.Context(), "replicas", "not json"); err != nil {
				t.Fatal(err)
			}
			got, err := rotate.CheckReplicas(t.Context(), st, 2, now, rotate.ReplicaStaleAfter)
			if len(got) != len(tc.replicas) {
				t.Errorf("CheckReplicas returned %d replicas, want all %d recorded", len(got), len(tc.replicas))
			}
			var live []string
			for _, s := range got {
				if s.Live {
					live = append(live, s.Owner)
				}
				if s.HasPrimary != s.HasKey(2) || s.SeenAgoSeconds != int64(now.Sub(s.SeenAt)/time.Second) {
					t.Errorf("status of %s = %+v: has_primary or seen_ago wrong", s.Owner, s)
				}
			}
			if diff := cmp.Diff(tc.live, live); diff != "" {
				t.Errorf("live replicas (-want +got):\n%s", diff)
			}
			if len(tc.blocking) == 0 {
				if err != nil {
					t.Fatalf("CheckReplicas = %v, want no refusal", err)
				}
				return
			}
			mk, ok := errors.AsType[*rotate.MissingKeyError](err)
			if !ok {
				t.Fatalf("CheckReplicas = %v, want a MissingKeyError", err)
			}
			var named []string
			for _, r := range mk.Replicas {
				named = append(named, r.Owner)
			}
			if diff := cmp.Diff(tc.blocking, named); diff != "" {
				t.Errorf("replicas refused for (-want +got):\n%s", diff)
			}
			// The message names each replica so the operator can find it.
			msg := err.Error()
			for _, r := range mk.Replicas {
				for _, want := range []string{"replica " + r.Owner, "host host-" + r.Owner, "pid " + strconv.Itoa(r.PID), "holding keys [1]"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not contain %q", msg, want)
					}
				}
			}
			if !strings.Contains(msg, "key 2") || !strings.Contains(msg, "restart") {
				t.Errorf("error %q does not say which key is missing and to restart", msg)
			}
		})
	}
}

// TestReplicaRecordRoundTrip: a record reads back as written, and one
// that does not decode is an error naming its key.
func TestReplicaRecordRoundTrip(t *testing.T) {
	st, err := sqlstore.Open(t.Context(), storetest.NewSQLite(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := rotate.Replica{Owner: "grantd-1", KeyIDs: []uint32{1, 3}, Primary: 3, Hostname: "h", PID: 7, Version: "(devel)",
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), SeenAt: time.Date(2026, 1, 2, 3, 5, 5, 0, time.UTC)}
	if err := rotate.PutReplica(t.Context(), st, want); err != nil {
		t.Fatal(err)
	}
	got, err := rotate.ListReplicas(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rotate.Replica{want}, got); diff != "" {
		t.Errorf("ListReplicas (-want +got):\n%s", diff)
	}
	if err := rotate.PutReplica(t.Context(), st, rotate.Replica{}); err == nil {
		t.Error("PutReplica without an owner succeeded")
	}
	if err := st.PutMeta(t.Context(), rotate.MetaReplicaPrefix+"broken", "{"); err != nil {
		t.Fatal(err)
	}
	if _, err := rotate.ListReplicas(t.Context(), st); err == nil || !strings.Contains(err.Error(), "replica/broken") {
		t.Errorf("ListReplicas with a broken record = %v, want an error naming it", err)
	}
}
