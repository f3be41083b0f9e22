package oauthx_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/oauthx"
)

// TestMalformedResponseKeepsRotatedRefreshToken: a 2xx answer that cannot
// be used still hands the caller the rotated refresh token it carries (so
// the grant is not lost), and no way of printing the error shows it.
func TestMalformedResponseKeepsRotatedRefreshToken(t *testing.T) {
	const rt = "rt-rotated-canary-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at","token_type":"Bearer","expires_in":-5,"refresh_token":%q}`, rt)
	}))
	defer srv.Close()
	_, err := oauthx.Do(t.Context(), srv.Client(), nil, oauthx.Request{TokenURL: srv.URL, ClientID: "c", ClientSecret: "s", Params: map[string]string{"grant_type": "refresh_token", "refresh_token": "old"}})
	mr, ok := errors.AsType[*oauthx.MalformedResponse](err)
	if !ok {
		t.Fatalf("Do = %v (%T), want a *MalformedResponse", err, err)
	}
	if mr.RefreshToken != rt {
		t.Errorf("RefreshToken = %q, want the rotated one", mr.RefreshToken)
	}
	if oauthx.IsTransient(err) || oauthx.IsInvalidGrant(err) {
		t.Error("a malformed answer is neither transient nor invalid_grant")
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("refresh", "err", mr)
	for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v %s", err, err, mr, mr), logs.String()} {
		if strings.Contains(s, rt) {
			t.Errorf("printed error shows the refresh token: %q", s)
		}
	}
}
