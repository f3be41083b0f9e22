package oauthx

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/provider"
)

const benchAnswer = `{"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.sig","token_type":"Bearer","expires_in":"86400","refresh_token":"v1.MrT","scope":"openid profile email offline_access Manage:Pax8Data","id_token":"a.b.c"}`

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchAnswer)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkDo measures a JSON-encoded refresh through Do on loopback.
func BenchmarkDo(b *testing.B) {
	srv := benchServer(b)
	r := Request{TokenURL: srv.URL, Encoding: provider.JSON, ClientID: "c", ClientSecret: "s",
		Params: map[string]string{"grant_type": "refresh_token", "refresh_token": "v1.MrT", "audience": "https://api.pax8.com"}}
	for b.Loop() {
		if _, err := Do(b.Context(), srv.Client(), nil, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselinePost is the same exchange with a bare http.Post and no
// parsing: the baseline BenchmarkDo is compared with.
func BenchmarkBaselinePost(b *testing.B) {
	srv := benchServer(b)
	hc := srv.Client()
	body := []byte(`{"grant_type":"refresh_token","refresh_token":"v1.MrT","client_id":"c","client_secret":"s"}`)
	for b.Loop() {
		resp, err := hc.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkParseResponse measures parsing alone.
func BenchmarkParseResponse(b *testing.B) {
	body := []byte(benchAnswer)
	now := time.Now()
	for b.Loop() {
		if _, err := parseResponse(200, "application/json", body, now, nil); err != nil {
			b.Fatal(err)
		}
	}
}
