package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
)

// send is one API request as the stack's tenant with a raw JSON body ("":
// none); it returns the status, the headers and the body.
func (s *stack) send(t *testing.T, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.publicURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// refreshRequests is the number of refresh_token grant requests the
// sandbox answered, whatever the outcome.
func (s *stack) refreshRequests() int {
	n := 0
	for _, v := range s.sandbox.Stats().Providers[sandbox.Pax8].TokenRequests["refresh_token"] {
		n += v
	}
	return n
}

// tokenAnswer is the API's token body.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
}

// errorAnswer is the API's error body.
type errorAnswer struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestForcedRefreshThrottled drives POST /v1/connections/{id}/refresh
// through the whole served grantd with refresh.min_forced_interval 30s:
// of 10 forced refreshes in a row only the first (the first after
// consent) reaches the provider; the other 9 answer 429 refresh_throttled
// with a Retry-After of at most 30 s, and send nothing. A forced refresh
// fenced on an older token ({"access_token": the consent's token})
// returns the current token and sends nothing either.
func TestForcedRefreshThrottled(t *testing.T) {
	s := startStack(t, testLogger(t), func(c *config.Config) {
		c.Refresh.MinForcedInterval = config.Duration(30 * time.Second)
	})
	id := s.connect(t)
	var consented tokenAnswer
	if st := s.call(t, http.MethodGet, "/v1/connections/"+id+"/token", nil, &consented, nil); st != http.StatusOK || consented.AccessToken == "" {
		t.Fatalf("GET token = %d, want 200 with a token", st)
	}
	path := "/v1/connections/" + id + "/refresh"
	before := s.refreshRequests()

	var current string
	for i := range 10 {
		st, h, b := s.send(t, http.MethodPost, path, "")
		if i == 0 {
			var tok tokenAnswer
			if st != http.StatusOK || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" || tok.AccessToken == consented.AccessToken {
				t.Fatalf("first forced refresh after consent = %d %s, want 200 with a new token", st, b)
			}
			current = tok.AccessToken
			continue
		}
		var e errorAnswer
		json.Unmarshal(b, &e)
		ra, err := strconv.Atoi(h.Get("Retry-After"))
		if st != http.StatusTooManyRequests || e.Error.Code != "refresh_throttled" || err != nil || ra < 1 || ra > 30 {
			t.Errorf("forced refresh %d = %d Retry-After %q %s, want 429 refresh_throttled with Retry-After 1..30", i+1, st, h.Get("Retry-After"), b)
		}
		if bytes.Contains(b, []byte(current)) {
			t.Errorf("forced refresh %d: the 429 carries the access token", i+1)
		}
	}
	if n := s.refreshRequests() - before; n != 1 {
		t.Errorf("refresh requests at the sandbox after 10 forced refreshes = %d, want 1", n)
	}

	// Fenced on the consent's token, which was replaced: the current
	// token comes back, nothing is sent, and no throttle applies.
	body, _ := json.Marshal(map[string]string{"access_token": consented.AccessToken})
	st, _, b := s.send(t, http.MethodPost, path, string(body))
	var tok tokenAnswer
	if st != http.StatusOK || json.Unmarshal(b, &tok) != nil || tok.AccessToken != current {
		t.Errorf("forced refresh fenced on an older token = %d %s, want 200 with the current token", st, b)
	}
	if n := s.refreshRequests() - before; n != 1 {
		t.Errorf("refresh requests at the sandbox after the fenced refresh = %d, want still 1", n)
	}
}
