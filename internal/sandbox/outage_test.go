package sandbox_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
)

// TestOutage puts the token endpoint, the API and the JWKS down for windows
// of the sandbox clock over the control API: every request inside the
// window fails, nothing is consumed, and advancing the clock past the
// window ends it.
func TestOutage(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	ctl := controlURL(e)
	tok, _ := e.connect()
	grant := mint(t, e.s, 1)[0]

	if status, b := send(t, "POST", ctl+"/faults", `{"kind":"outage","endpoint":"token","duration":"10m"}`); status != http.StatusNoContent {
		t.Fatalf("POST outage = %d %s", status, b)
	}
	status, b := send(t, "GET", ctl+"/faults", "")
	var listed struct{ Faults []map[string]any }
	if err := json.Unmarshal(b, &listed); status != 200 || err != nil || len(listed.Faults) != 1 {
		t.Fatalf("GET faults = %d %s", status, b)
	}
	f := listed.Faults[0]
	from, _ := time.Parse(time.RFC3339Nano, f["from"].(string))
	until, _ := time.Parse(time.RFC3339Nano, f["until"].(string))
	if f["kind"] != "outage" || f["endpoint"] != "token" || f["duration"] != "10m0s" || until.Sub(from) != 10*time.Minute || from.After(e.s.Now()) {
		t.Errorf("listed outage = %v, want kind outage, duration 10m0s, until = from+10m", f)
	}
	down := func(when string) {
		t.Helper()
		_, err := e.refresh(grant.RefreshToken)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable || re.ErrorCode != "temporarily_unavailable" {
			t.Fatalf("refresh %s = %v, want 503 temporarily_unavailable", when, err)
		}
	}
	down("in the outage")
	down("again: an outage is not consumed by requests")
	e.s.Advance(9*time.Minute + 59*time.Second)
	down("one second before the outage ends")
	if got := tokenCounts(e.s, "refresh_token")["outage"]; got != 3 {
		t.Errorf("token_requests.refresh_token.outage = %d, want 3", got)
	}
	e.s.Advance(time.Second)
	if _, err := e.refresh(grant.RefreshToken); err != nil {
		t.Errorf("refresh after the outage = %v (the refresh token must be untouched)", err)
	}
	if status, b := send(t, "GET", ctl+"/faults", ""); status != 200 || string(b) == "" || json.Unmarshal(b, &listed) != nil || len(listed.Faults) != 0 {
		t.Errorf("faults after the outage = %s, want none", b)
	}

	t.Run("api and jwks", func(t *testing.T) {
		api := e.ep.APIBaseURL + "/companies"
		for _, body := range []string{
			`{"kind":"outage","endpoint":"api","duration":"1m"}`,
			`{"kind":"outage","endpoint":"jwks","status":502,"duration":"1m"}`,
		} {
			if status, b := send(t, "POST", ctl+"/faults", body); status != http.StatusNoContent {
				t.Fatalf("POST %s = %d %s", body, status, b)
			}
		}
		if status, body := bearerGet(t, api, tok.AccessToken); status != http.StatusServiceUnavailable || body["type"] != "SERVICE_UNAVAILABLE" {
			t.Errorf("API in an outage = %d %v, want 503 SERVICE_UNAVAILABLE", status, body)
		}
		if resp, err := http.Get(e.ep.JWKSURL); err != nil || resp.StatusCode != http.StatusBadGateway {
			t.Errorf("JWKS in an outage with status 502 = %v %v", resp.Status, err)
		} else {
			resp.Body.Close()
		}
		if _, err := e.refresh(grant.RefreshToken); err == nil {
			// The grant was rotated above, so this is reuse: it must be
			// refused, by the token endpoint that is not down.
			t.Error("reusing a rotated token succeeded")
		} else if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) && re.Response.StatusCode != http.StatusForbidden {
			t.Errorf("token endpoint during an API outage = %d, want 403 (up)", re.Response.StatusCode)
		}
		e.s.Advance(time.Minute)
		if status, _ := bearerGet(t, api, tok.AccessToken); status != http.StatusOK {
			t.Errorf("API after its outage = %d, want 200", status)
		}
		if resp, err := http.Get(e.ep.JWKSURL); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("JWKS after its outage = %v %v", resp.Status, err)
		} else {
			resp.Body.Close()
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, body := range []string{
			`{"kind":"outage"}`,
			`{"kind":"outage","duration":"-1m"}`,
			`{"kind":"outage","duration":"1m","count":2}`,
			`{"kind":"outage","duration":"1m","grant_type":"refresh_token"}`,
			`{"kind":"server_error","duration":"1m"}`,
			`{"kind":"outage","duration":"1m","until":"2030-01-01T00:00:00Z"}`,
			`{"kind":"outage","endpoint":"nowhere","duration":"1m"}`,
		} {
			if status, _ := send(t, "POST", ctl+"/faults", body); status != http.StatusBadRequest {
				t.Errorf("POST faults %s = %d, want 400", body, status)
			}
		}
	})
}
