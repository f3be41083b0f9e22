package oauthx

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/provider"
)

// received is what a test token endpoint saw.
type received struct {
	Method        string
	RawQuery      string
	ContentType   string
	Accept        string
	Authorization string
	Params        map[string]string
}

// recordingServer answers every request with a fixed token and records what
// it received.
func recordingServer(t *testing.T) (*httptest.Server, *[]received) {
	t.Helper()
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{
			Method:        r.Method,
			RawQuery:      r.URL.RawQuery,
			ContentType:   r.Header.Get("Content-Type"),
			Accept:        r.Header.Get("Accept"),
			Authorization: r.Header.Get("Authorization"),
			Params:        map[string]string{},
		}
		switch rec.ContentType {
		case "application/json":
			if err := json.Unmarshal(body, &rec.Params); err != nil {
				t.Errorf("server: body is not a JSON object of strings: %v", err)
			}
		case "application/x-www-form-urlencoded":
			v, err := url.ParseQuery(string(body))
			if err != nil {
				t.Errorf("server: body is not a form: %v", err)
			}
			for k := range v {
				rec.Params[k] = v.Get(k)
			}
		}
		got = append(got, rec)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":86400}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// TestDoDialects checks, for every encoding and client auth, exactly what
// the token endpoint receives; the secret never goes into the URL (SEC-38).
func TestDoDialects(t *testing.T) {
	srv, got := recordingServer(t)
	const id, secret = "client:1", "s3cr&t/+="
	grant := map[string]string{
		"grant_type":    "authorization_code",
		"code":          "the-code",
		"redirect_uri":  "https://app.example/cb",
		"code_verifier": "verifier",
		"audience":      "https://api.pax8.com",
	}
	withCreds := map[string]string{"client_id": id, "client_secret": secret}
	merge := func(a, b map[string]string) map[string]string {
		m := map[string]string{}
		maps.Copy(m, a)
		maps.Copy(m, b)
		return m
	}
	tests := []struct {
		name string
		req  Request
		want received
	}{
		{
			name: "form body",
			req:  Request{Encoding: provider.Form, ClientAuth: provider.ClientAuthBody, ClientID: id, ClientSecret: secret, Params: grant},
			want: received{Method: "POST", ContentType: "application/x-www-form-urlencoded", Accept: "application/json", Params: merge(grant, withCreds)},
		},
		{
			name: "form basic",
			req:  Request{Encoding: provider.Form, ClientAuth: provider.ClientAuthBasic, ClientID: id, ClientSecret: secret, Params: grant},
			want: received{Method: "POST", ContentType: "application/x-www-form-urlencoded", Accept: "application/json", Authorization: basic(id, secret), Params: grant},
		},
		{
			name: "json body",
			req:  Request{Encoding: provider.JSON, ClientAuth: provider.ClientAuthBody, ClientID: id, ClientSecret: secret, Params: grant},
			want: received{Method: "POST", ContentType: "application/json", Accept: "application/json", Params: merge(grant, withCreds)},
		},
		{
			name: "json basic",
			req:  Request{Encoding: provider.JSON, ClientAuth: provider.ClientAuthBasic, ClientID: id, ClientSecret: secret, Params: grant},
			want: received{Method: "POST", ContentType: "application/json", Accept: "application/json", Authorization: basic(id, secret), Params: grant},
		},
		{
			name: "zero values mean form body",
			req:  Request{ClientID: id, ClientSecret: secret, Params: grant},
			want: received{Method: "POST", ContentType: "application/x-www-form-urlencoded", Accept: "application/json", Params: merge(grant, withCreds)},
		},
		{
			name: "daxko partner bearer",
			req: Request{Encoding: provider.Form, ClientAuth: provider.ClientAuthBody, ClientID: "partner-user", ClientSecret: "partner-pass", Bearer: "partner-refresh",
				Params: map[string]string{"grant_type": "client_credentials", "scope": "client:42"}},
			want: received{Method: "POST", ContentType: "application/x-www-form-urlencoded", Accept: "application/json", Authorization: "Bearer partner-refresh",
				Params: map[string]string{"grant_type": "client_credentials", "scope": "client:42", "client_id": "partner-user", "client_secret": "partner-pass"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*got = nil
			tt.req.TokenURL = srv.URL + "/oauth/token"
			tok, err := Do(t.Context(), srv.Client(), nil, tt.req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if tok.AccessToken != "at-1" {
				t.Errorf("AccessToken = %q, want at-1", tok.AccessToken)
			}
			if len(*got) != 1 {
				t.Fatalf("server got %d requests, want 1", len(*got))
			}
			if diff := cmp.Diff(tt.want, (*got)[0]); diff != "" {
				t.Errorf("server received (-want +got):\n%s", diff)
			}
			if strings.Contains((*got)[0].RawQuery, url.QueryEscape(tt.req.ClientSecret)) {
				t.Errorf("SEC-38: secret in query %q", (*got)[0].RawQuery)
			}
		})
	}
}

func TestDoRefusesBadRequests(t *testing.T) {
	srv, got := recordingServer(t)
	tests := []struct {
		name string
		req  Request
	}{
		{"secret in params", Request{TokenURL: srv.URL, Params: map[string]string{"grant_type": "client_credentials", "client_secret": "x"}}},
		{"client id in params", Request{TokenURL: srv.URL, Params: map[string]string{"grant_type": "client_credentials", "client_id": "x"}}},
		{"no grant type", Request{TokenURL: srv.URL, Params: map[string]string{"code": "c"}}},
		{"relative url", Request{TokenURL: "/oauth/token", Params: map[string]string{"grant_type": "client_credentials"}}},
		{"ftp url", Request{TokenURL: "ftp://h/token", Params: map[string]string{"grant_type": "client_credentials"}}},
		{"userinfo in url", Request{TokenURL: strings.Replace(srv.URL, "http://", "http://id:secret@", 1), Params: map[string]string{"grant_type": "client_credentials"}}},
		{"bearer with basic", Request{TokenURL: srv.URL, ClientAuth: provider.ClientAuthBasic, ClientID: "c", Bearer: "b", Params: map[string]string{"grant_type": "client_credentials"}}},
		{"basic without id", Request{TokenURL: srv.URL, ClientAuth: provider.ClientAuthBasic, Params: map[string]string{"grant_type": "client_credentials"}}},
		{"unknown encoding", Request{TokenURL: srv.URL, Encoding: "xml", Params: map[string]string{"grant_type": "client_credentials"}}},
		{"unknown auth", Request{TokenURL: srv.URL, ClientAuth: "jwt", Params: map[string]string{"grant_type": "client_credentials"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Do(t.Context(), srv.Client(), nil, tt.req)
			if err == nil {
				t.Fatal("Do succeeded, want an error")
			}
			if strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), "id:secret") {
				t.Errorf("error %q reveals the url credentials", err)
			}
		})
	}
	if len(*got) != 0 {
		t.Errorf("server got %d requests, want 0", len(*got))
	}
}

// TestDoDoesNotFollowRedirects makes sure a redirected POST never carries the
// client secret to another server (SEC-38).
func TestDoDoesNotFollowRedirects(t *testing.T) {
	elsewhere, got := recordingServer(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	_, err := Do(t.Context(), srv.Client(), nil, Request{TokenURL: srv.URL, ClientID: "c", ClientSecret: "canary-secret-1",
		Params: map[string]string{"grant_type": "client_credentials"}})
	if _, ok := err.(*TokenError); !ok {
		t.Fatalf("Do = %v, want a *TokenError", err)
	}
	if len(*got) != 0 {
		t.Errorf("redirect target got %d requests, want 0", len(*got))
	}
}

func TestRequestRedacted(t *testing.T) {
	r := Request{TokenURL: "https://h/token", ClientSecret: "canary-secret-2", Bearer: "canary-bearer",
		Params: map[string]string{"grant_type": "refresh_token", "refresh_token": "canary-rt"}}
	var b strings.Builder
	h := slogText(&b)
	h.Info("request", "req", r)
	for _, s := range []string{r.String(), fmtAll(r), b.String()} {
		for _, canary := range []string{"canary-secret-2", "canary-bearer", "canary-rt"} {
			if strings.Contains(s, canary) {
				t.Errorf("SEC-61: %q reveals %s", s, canary)
			}
		}
	}
	if !strings.Contains(b.String(), "grant_type=refresh_token") {
		t.Errorf("log %q lacks the grant type", b.String())
	}
}
