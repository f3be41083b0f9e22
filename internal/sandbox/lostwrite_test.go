package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/grantd/grantd/internal/sandbox"
)

// TestLostAfterWrite: the fault waits for a write (a GET passes it by),
// applies it and closes the connection without an answer, or answers its
// status; a write that fails is answered as usual.
func TestLostAfterWrite(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok, _ := e.connect()
	api := e.ep.APIBaseURL + "/companies"
	count := func() int {
		t.Helper()
		status, body := bearerGet(t, api+"?size=1", tok.AccessToken)
		if status != 200 {
			t.Fatalf("list companies = %d", status)
		}
		page, _ := body["page"].(map[string]any)
		n, _ := page["totalElements"].(float64)
		return int(n)
	}
	post := func(body string) (int, error) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, api, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	company, _ := json.Marshal(map[string]any{"name": "Lost Co", "phone": "1", "website": "https://x.example",
		"address":               map[string]any{"street": "1 Main", "city": "Denver", "postalCode": "80202", "country": "US"},
		"billOnBehalfOfEnabled": false, "selfServiceAllowed": false, "orderApprovalRequired": false})

	before := count()
	if err := e.s.AddFault(sandbox.Fault{Kind: "lost_after_write"}); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != before {
		t.Fatalf("a GET changed the count: %d, %d", before, after)
	}
	if status, err := post(string(company)); err == nil {
		t.Errorf("POST with lost_after_write = %d, want no answer", status)
	}
	if got := count(); got != before+1 {
		t.Errorf("%d companies after the lost write, want %d (the write applied)", got, before+1)
	}

	if err := e.s.AddFault(sandbox.Fault{Kind: "lost_after_write", Status: 502}); err != nil {
		t.Fatal(err)
	}
	if status, err := post(string(company)); err != nil || status != 502 {
		t.Errorf("POST with lost_after_write status 502 = %d, %v", status, err)
	}
	if got := count(); got != before+2 {
		t.Errorf("%d companies, want %d", got, before+2)
	}

	if err := e.s.AddFault(sandbox.Fault{Kind: "lost_after_write"}); err != nil {
		t.Fatal(err)
	}
	if status, err := post(`{"name":""}`); err != nil || status != 422 && status != 400 {
		t.Errorf("failing POST with lost_after_write = %d, %v; want its own error answered", status, err)
	}
	if got := count(); got != before+2 {
		t.Errorf("%d companies after a failed write, want %d", got, before+2)
	}
}
