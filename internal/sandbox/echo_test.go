package sandbox_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
)

// postRaw posts body as is and returns the status and decoded JSON answer.
func postRaw(t *testing.T, target, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %q is not JSON: %v", b, err)
	}
	return resp.StatusCode, out
}

// TestEchoFaults makes the token endpoint quote the raw request body, the
// client secret and refresh token included, in provider text: in the
// error_description of a 400 (echo_request, which processes nothing) and
// in token_type of a 200 (echo_token_type, after the refresh token
// rotated). Security tests use them to check that such text never reaches
// logs or callers (no secret in logs, errors).
func TestEchoFaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	grant := mint(t, e.s, 1)[0]
	body, err := json.Marshal(map[string]string{
		"grant_type": "refresh_token", "client_id": clientID, "client_secret": clientSecret, "refresh_token": grant.RefreshToken,
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := e.s.AddFault(sandbox.Fault{Kind: "echo_request"}); err != nil {
		t.Fatal(err)
	}
	status, out := postRaw(t, e.ep.TokenURL, "application/json", body)
	if status != http.StatusBadRequest || out["error"] != "invalid_request" || out["error_description"] != string(body) {
		t.Errorf("echo_request = %d %v, want 400 invalid_request quoting %s", status, out, body)
	}
	// The same through x/oauth2's form body: the description is that body.
	if err := e.s.AddFault(sandbox.Fault{Kind: "echo_request", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(grant.RefreshToken)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_request" ||
		!strings.Contains(re.ErrorDescription, "client_secret="+clientSecret) || !strings.Contains(re.ErrorDescription, "refresh_token="+grant.RefreshToken) {
		t.Errorf("echo_request through x/oauth2 = %v, want the form body with the secrets in error_description", err)
	}
	if got := tokenCounts(e.s, "refresh_token")["echo_request"]; got != 2 {
		t.Errorf("token_requests.refresh_token.echo_request = %d, want 2", got)
	}

	// echo_request processed nothing: the refresh token still works, and
	// under echo_token_type it rotates while token_type is the body.
	if err := e.s.AddFault(sandbox.Fault{Kind: "echo_token_type"}); err != nil {
		t.Fatal(err)
	}
	status, out = postRaw(t, e.ep.TokenURL, "application/json", body)
	next, _ := out["refresh_token"].(string)
	if status != http.StatusOK || out["token_type"] != string(body) || out["access_token"] == nil || next == "" || next == grant.RefreshToken {
		t.Fatalf("echo_token_type = %d %v, want 200 with token_type %s and a rotated refresh token", status, out, body)
	}
	if _, err := e.refresh(next); err != nil {
		t.Errorf("refresh with the token rotated under echo_token_type = %v", err)
	}
	for _, bad := range []sandbox.Fault{{Kind: "echo_request", Endpoint: "api"}, {Kind: "echo_token_type", Endpoint: "userinfo"}} {
		if err := e.s.AddFault(bad); err == nil {
			t.Errorf("AddFault(%+v) accepted, want refused: echo faults are for the token endpoint", bad)
		}
	}
}
