package connectresult

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)

func TestRoundTrip(t *testing.T) {
	key := DeriveKey([]byte("secret"), "t_1")
	want := Result{Outcome: Denied, ConnectionID: "conn_1", Error: "access_denied", SessionID: "cs_1", IssuedAt: t0}
	raw, err := AppendTo("https://app.example/back?x=1&outcome=forged", key, want)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if u.Query().Get("x") != "1" {
		t.Errorf("AppendTo dropped the application's own parameter: %s", raw)
	}
	vf := &Verifier{Key: key, Now: func() time.Time { return t0.Add(time.Minute) }}
	got, err := vf.Verify(u.Query())
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Verify (-want +got):\n%s", diff)
	}
	if _, err := vf.Verify(u.Query()); !errors.Is(err, ErrReplayed) {
		t.Errorf("second Verify = %v, want ErrReplayed", err)
	}
}

func TestRejects(t *testing.T) {
	key := DeriveKey([]byte("secret"), "t_1")
	good := Sign(key, Result{Outcome: Connected, ConnectionID: "conn_1", SessionID: "cs_1", IssuedAt: t0})
	edit := func(f func(url.Values)) url.Values {
		q := url.Values{}
		for k, v := range good {
			q[k] = append([]string(nil), v...)
		}
		f(q)
		return q
	}
	tests := []struct {
		name string
		key  []byte
		q    url.Values
		now  time.Time
		want error
	}{
		{"other connection", key, edit(func(q url.Values) { q.Set(ParamConnectionID, "conn_2") }), t0, ErrSignature},
		{"outcome changed", key, edit(func(q url.Values) { q.Set(ParamOutcome, "reauthorized") }), t0, ErrSignature},
		{"error added", key, edit(func(q url.Values) { q.Set(ParamError, "x") }), t0, ErrSignature},
		{"issued_at moved", key, edit(func(q url.Values) { q.Set(ParamIssuedAt, "1") }), t0, ErrSignature},
		{"duplicate parameter", key, edit(func(q url.Values) { q.Add(ParamConnectionID, "conn_2") }), t0, ErrSignature},
		{"another tenant's key", DeriveKey([]byte("secret"), "t_2"), good, t0, ErrSignature},
		{"garbage signature", key, edit(func(q url.Values) { q.Set(ParamSignature, "!!") }), t0, ErrSignature},
		{"no signature", key, edit(func(q url.Values) { q.Del(ParamSignature) }), t0, ErrMissing},
		{"too old", key, good, t0.Add(11 * time.Minute), ErrExpired},
		{"from the future", key, good, t0.Add(-2 * time.Minute), ErrExpired},
		{"no key", nil, good, t0, ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vf := &Verifier{Key: tt.key, Now: func() time.Time { return tt.now }}
			if _, err := vf.Verify(tt.q); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSeenHook(t *testing.T) {
	key := []byte("k")
	seen := map[string]bool{}
	vf := &Verifier{Key: key, Now: func() time.Time { return t0 }, Seen: func(id string) bool {
		was := seen[id]
		seen[id] = true
		return was
	}}
	q := Sign(key, Result{Outcome: Connected, ConnectionID: "c", SessionID: "cs_9", IssuedAt: t0})
	if _, err := vf.Verify(q); err != nil {
		t.Fatal(err)
	}
	if _, err := vf.Verify(q); !errors.Is(err, ErrReplayed) {
		t.Errorf("replay through Seen = %v, want ErrReplayed", err)
	}
}
