package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
)

func send(t *testing.T, method, target, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestControlAPI drives the sandbox over its HTTP control API only.
func TestControlAPI(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	base := strings.TrimSuffix(e.ep.Issuer, "/pax8/")
	ctl := base + "/_sandbox"

	t.Run("clients", func(t *testing.T) {
		status, b := send(t, "POST", ctl+"/clients", `{"provider":"pax8","client_id":"ctl-client","client_secret":"ctl-secret","redirect_uris":["https://ctl.example/cb"]}`)
		if status != http.StatusNoContent {
			t.Fatalf("POST clients = %d %s", status, b)
		}
		cfg := *e.cfg
		cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL = "ctl-client", "ctl-secret", "https://ctl.example/cb"
		f := newFlow()
		loc := e.login(f.authURL(&cfg), partnerUser, true)
		if _, err := cfg.Exchange(e.ctx(), loc.Query().Get("code"), oauth2.VerifierOption(f.verifier)); err != nil {
			t.Errorf("flow with a client registered over HTTP = %v", err)
		}
		if status, _ := send(t, "POST", ctl+"/clients", `{"provider":"nobody","client_id":"a","client_secret":"b"}`); status != http.StatusNotFound {
			t.Errorf("POST clients for an unknown provider = %d, want 404", status)
		}
	})

	t.Run("settings", func(t *testing.T) {
		status, b := send(t, "POST", ctl+"/settings", `{"provider":"pax8","rotation":false,"reuse_interval":"5s","access_ttl":"1h"}`)
		if status != http.StatusOK {
			t.Fatalf("POST settings = %d %s", status, b)
		}
		var got map[string]any
		json.Unmarshal(b, &got)
		want := map[string]any{
			"provider": "pax8", "rotation": false, "reuse_interval": "5s", "access_ttl": "1h0m0s",
			"refresh_absolute": "8766h0m0s", "refresh_idle": "720h0m0s", "send_iss": false, "require_json": false, "rate_limited": false,
			"expires_in_number": false, "token_latency": "0s", "token_rate_limit": 0.0, "token_rate_burst": 0.0,
			"api_rate_limit": 0.0, "api_rate_burst": 0.0,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("settings (-want +got):\n%s", diff)
		}
		tok, _ := e.connect()
		if tok.ExpiresIn != 3600 {
			t.Errorf("expires_in = %d, want 3600 after access_ttl 1h", tok.ExpiresIn)
		}
		for _, bad := range []string{`{"access_ttl":"0s"}`, `{"reuse_interval":"soon"}`, `{"rotation":"yes"}`, `{"unknown":1}`} {
			if status, _ := send(t, "POST", ctl+"/settings", bad); status != http.StatusBadRequest {
				t.Errorf("POST settings %s = %d, want 400", bad, status)
			}
		}
		send(t, "POST", ctl+"/settings", `{"rotation":true,"access_ttl":"24h","reuse_interval":"0s"}`)
	})

	t.Run("faults", func(t *testing.T) {
		if status, b := send(t, "POST", ctl+"/faults", `{"kind":"server_error","count":2,"grant_type":"client_credentials"}`); status != http.StatusNoContent {
			t.Fatalf("POST faults = %d %s", status, b)
		}
		if status, b := send(t, "POST", ctl+"/faults", `{"kind":"slow","delay":"1ms"}`); status != http.StatusNoContent {
			t.Fatalf("POST slow fault = %d %s", status, b)
		}
		if status, _ := send(t, "POST", ctl+"/faults", `{"kind":"nope"}`); status != http.StatusBadRequest {
			t.Errorf("POST unknown fault = %d, want 400", status)
		}
		status, b := send(t, "GET", ctl+"/faults", "")
		var list struct{ Faults []sandbox.Fault }
		if err := json.Unmarshal(b, &list); status != 200 || err != nil {
			t.Fatalf("GET faults = %d %v", status, err)
		}
		want := []sandbox.Fault{
			{Provider: "pax8", Endpoint: "token", Kind: "server_error", Count: 2, GrantType: "client_credentials"},
			{Provider: "pax8", Endpoint: "token", Kind: "slow", Count: 1, Delay: time.Millisecond},
		}
		if diff := cmp.Diff(want, list.Faults); diff != "" {
			t.Errorf("faults (-want +got):\n%s", diff)
		}
		cc := map[string]string{"client_id": clientID, "client_secret": clientSecret, "grant_type": "client_credentials", "audience": audAPI}
		if status, _, _ := postJSON(t, e.ep.APITokenURL, cc); status != 500 {
			t.Errorf("client credentials under the fault = %d, want 500", status)
		}
		if status, _ := send(t, "DELETE", ctl+"/faults", ""); status != http.StatusNoContent {
			t.Errorf("DELETE faults = %d", status)
		}
		if status, _, _ := postJSON(t, e.ep.APITokenURL, cc); status != 200 {
			t.Errorf("client credentials after DELETE = %d, want 200", status)
		}
	})

	t.Run("clock", func(t *testing.T) {
		before := e.s.Now()
		status, b := send(t, "POST", ctl+"/clock", `{"advance":"25h"}`)
		var got struct{ Now time.Time }
		if err := json.Unmarshal(b, &got); status != 200 || err != nil {
			t.Fatalf("POST clock = %d %s", status, b)
		}
		if d := got.Now.Sub(before); d < 25*time.Hour || d > 25*time.Hour+time.Minute {
			t.Errorf("clock moved by %v, want 25h", d)
		}
		status, b = send(t, "GET", ctl+"/clock", "")
		if status != 200 || !strings.Contains(string(b), `"now"`) {
			t.Errorf("GET clock = %d %s", status, b)
		}
		if status, _ := send(t, "POST", ctl+"/clock", `{"advance":"a while"}`); status != 400 {
			t.Errorf("POST clock with a bad duration = %d, want 400", status)
		}
	})

	t.Run("stats", func(t *testing.T) {
		status, b := send(t, "GET", ctl+"/stats", "")
		var got sandbox.Stats
		if err := json.Unmarshal(b, &got); status != 200 || err != nil {
			t.Fatalf("GET stats = %d %v", status, err)
		}
		if diff := cmp.Diff(e.s.Stats(), got); diff != "" {
			t.Errorf("stats over HTTP (-Go +HTTP):\n%s", diff)
		}
		if got.Providers["pax8"].TokenRequests["client_credentials"]["server_error"] != 1 {
			t.Errorf("stats = %s, want one client_credentials server_error", b)
		}
		if status, _ := send(t, "POST", ctl+"/stats/reset", ""); status != http.StatusNoContent {
			t.Errorf("reset = %d", status)
		}
		if st := e.s.Stats().Providers["pax8"]; st.AuthorizeRequests != 0 || len(st.TokenRequests) != 0 {
			t.Errorf("stats after reset = %+v, want zero", st)
		}
	})

	t.Run("index", func(t *testing.T) {
		status, b := send(t, "GET", base+"/", "")
		if status != 200 || !strings.Contains(string(b), partnerUser) || !strings.Contains(string(b), e.ep.TokenURL) {
			t.Errorf("index = %d, want the accounts and endpoints listed", status)
		}
	})
}
