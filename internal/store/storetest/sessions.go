package storetest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// noSecret fails when err's message contains any secret, raw or encoded
// as hex or base64.
func noSecret(t *testing.T, err error, secrets ...[]byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, sec := range secrets {
		for _, form := range []string{string(sec), hex.EncodeToString(sec),
			base64.StdEncoding.EncodeToString(sec), base64.RawURLEncoding.EncodeToString(sec)} {
			if len(form) >= 8 && strings.Contains(strings.ToLower(msg), strings.ToLower(form)) {
				t.Errorf("error %q contains a secret", msg)
			}
		}
	}
}

func newLink(id string, expires time.Duration) store.ConnectLink {
	return store.ConnectLink{
		ID:            id,
		TokenHash:     hash("link-token-" + id),
		TenantID:      "t1",
		IntegrationID: "i1",
		ReturnTo:      "https://app.example/done",
		ConnectionID:  "",
		ExpiresAt:     at(expires),
		CreatedAt:     at(0),
		EndUser:       store.EndUser{ID: "u-42", Email: "ops@customer.example", DisplayName: "Ops Team"},
		Tags:          []string{"plan:gold", "region:eu"},
	}
}

func newSession(id string, expires time.Duration) store.ConnectSession {
	return store.ConnectSession{
		ID:            id,
		StateHash:     hash("state-" + id),
		BrowserHash:   hash("browser-" + id),
		TenantID:      "t1",
		IntegrationID: "i1",
		Provider:      "pax8",
		Issuer:        "https://login.pax8.com/",
		AuthorizeURL:  "https://login.pax8.com/authorize",
		TokenURL:      "https://login.pax8.com/oauth/token",
		RedirectURI:   "https://grantd.example/callback/i1",
		Audience:      "https://api.pax8.com",
		Scopes:        []string{"Manage:Pax8Data", "openid", "profile", "email", "offline_access"},
		Nonce:         store.Sealed("sealed-nonce-" + id),
		Verifier:      store.Sealed("sealed-verifier-" + id),
		ReturnTo:      "https://app.example/done",
		ConnectionID:  "c-reauth",
		ExpiresAt:     at(expires),
		CreatedAt:     at(0),
		EndUser:       store.EndUser{ID: "u-42", Email: "ops@customer.example", DisplayName: "Ops Team"},
		Tags:          []string{"plan:gold"},
	}
}

func testConnectLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	l := newLink("l1", 10*time.Minute)
	if err := s.CreateConnectLink(ctx, l); err != nil {
		t.Fatalf("CreateConnectLink = %v", err)
	}
	got, err := s.GetConnectLinkByTokenHash(ctx, l.TokenHash)
	if err != nil {
		t.Fatalf("GetConnectLinkByTokenHash = %v", err)
	}
	if diff := cmp.Diff(l, got, cmpOpts); diff != "" {
		t.Errorf("GetConnectLinkByTokenHash (-want +got):\n%s", diff)
	}
	if _, err := s.GetConnectLinkByTokenHash(ctx, hash("unknown")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConnectLinkByTokenHash(unknown) = %v, want ErrNotFound", err)
	}
	dup := newLink("l2", time.Minute)
	dup.TokenHash = l.TokenHash
	if err := s.CreateConnectLink(ctx, dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateConnectLink(same token hash) = %v, want ErrAlreadyExists", err)
	}
	if err := s.CreateConnectLink(ctx, newLink("l1", time.Minute)); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateConnectLink(same id) = %v, want ErrAlreadyExists", err)
	}
}

// testConnectSessions checks that a session keeps the issuer and endpoint
// tuple it was sent to (SEC-20) and is single use (SEC-02).
func testConnectSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	cs := newSession("s1", 10*time.Minute)
	if err := s.CreateConnectSession(ctx, cs); err != nil {
		t.Fatalf("CreateConnectSession = %v", err)
	}
	dup := newSession("s2", time.Minute)
	dup.StateHash = cs.StateHash
	err := s.CreateConnectSession(ctx, dup)
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateConnectSession(same state hash) = %v, want ErrAlreadyExists", err)
	}
	// SEC-61: errors name rows, never their secrets or hashes.
	noSecret(t, err, cs.StateHash, dup.BrowserHash, dup.Nonce, dup.Verifier)
	if err := s.CreateConnectSession(ctx, newSession("s1", time.Minute)); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CreateConnectSession(same id) = %v, want ErrAlreadyExists", err)
	}
	if _, err := s.ConsumeConnectSession(ctx, hash("state-other")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeConnectSession(unknown) = %v, want ErrNotFound", err)
	} else {
		noSecret(t, err, hash("state-other"))
	}
	got, err := s.ConsumeConnectSession(ctx, cs.StateHash)
	if err != nil {
		t.Fatalf("ConsumeConnectSession = %v", err)
	}
	if diff := cmp.Diff(cs, got, cmpOpts); diff != "" {
		t.Errorf("ConsumeConnectSession (-want +got):\n%s", diff)
	}
	if _, err := s.ConsumeConnectSession(ctx, cs.StateHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second ConsumeConnectSession = %v, want ErrNotFound", err)
	}
}

// testConsumeConnectSessionConcurrent replays one state from 20 goroutines:
// exactly one gets the session (SEC-02).
func testConsumeConnectSessionConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	cs := newSession("s1", 10*time.Minute)
	if err := s.CreateConnectSession(ctx, cs); err != nil {
		t.Fatalf("CreateConnectSession = %v", err)
	}
	const workers = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		wins     int
		notFound int
	)
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			got, err := s.ConsumeConnectSession(ctx, cs.StateHash)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				if got.ID != cs.ID {
					t.Errorf("ConsumeConnectSession returned session %q, want %q", got.ID, cs.ID)
				}
			case errors.Is(err, store.ErrNotFound):
				notFound++
			default:
				t.Errorf("ConsumeConnectSession = %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 || notFound != workers-1 {
		t.Errorf("ConsumeConnectSession from %d goroutines: %d won, %d not found; want 1 and %d",
			workers, wins, notFound, workers-1)
	}
}

// testDeleteExpired purges expired flow records (SEC-03).
func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, cs := range []store.ConnectSession{
		newSession("old1", time.Minute), newSession("old2", 2*time.Minute), newSession("fresh", 2*time.Hour),
	} {
		if err := s.CreateConnectSession(ctx, cs); err != nil {
			t.Fatalf("CreateConnectSession(%q) = %v", cs.ID, err)
		}
	}
	for _, l := range []store.ConnectLink{newLink("old", time.Minute), newLink("fresh", 2*time.Hour)} {
		if err := s.CreateConnectLink(ctx, l); err != nil {
			t.Fatalf("CreateConnectLink(%q) = %v", l.ID, err)
		}
	}
	// A link is kept an hour after its creation (for CountConnectLinks).
	now := at(70 * time.Minute)
	got, err := s.DeleteExpired(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpired = %v", err)
	}
	if got != 3 {
		t.Errorf("DeleteExpired(now) = %d, want 3", got)
	}
	if got, err := s.DeleteExpired(ctx, now); err != nil || got != 0 {
		t.Errorf("DeleteExpired again = %d, %v; want 0, nil", got, err)
	}
	if _, err := s.ConsumeConnectSession(ctx, hash("state-old1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeConnectSession(expired) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetConnectLinkByTokenHash(ctx, hash("link-token-old")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConnectLinkByTokenHash(expired) = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeConnectSession(ctx, hash("state-fresh")); err != nil {
		t.Errorf("ConsumeConnectSession(fresh) = %v, want it kept", err)
	}
	if _, err := s.GetConnectLinkByTokenHash(ctx, hash("link-token-fresh")); err != nil {
		t.Errorf("GetConnectLinkByTokenHash(fresh) = %v, want it kept", err)
	}
}
