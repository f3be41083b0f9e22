package oauthx

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Canary values: they must never show up in an error message or a log.
const (
	canaryAT     = "canary-access-9f3b"
	canaryRT     = "canary-refresh-71ad"
	canaryCode   = "canary-code-5512"
	canarySecret = "canary-secret-0c0e"
)

// answer is a canned token endpoint answer.
type answer struct {
	status      int
	contentType string
	body        string
}

// answering starts a token endpoint that gives a.
func answering(t *testing.T, a answer) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if a.contentType != "" {
			w.Header().Set("Content-Type", a.contentType)
		} else {
			w.Header()["Content-Type"] = nil
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func codeRequest(url string) Request {
	return Request{TokenURL: url, ClientID: "c", ClientSecret: canarySecret, Params: map[string]string{
		"grant_type": "authorization_code", "code": canaryCode, "redirect_uri": "https://app.example/cb",
	}}
}

var fixedNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func tokenJSON(extra string) string {
	return `{"access_token":"` + canaryAT + `","refresh_token":"` + canaryRT + `"` + extra + `}`
}

// TestDoParsesAnswers covers the lenient and strict parts of response
// parsing: SEC-31 (token_type), SEC-32 (scope), expires_in forms, errors.
func TestDoParsesAnswers(t *testing.T) {
	html := "<html><body>Login " + canaryAT + "</body></html>"
	tests := []struct {
		name string
		a    answer
		// want is the token expected, nil when an error is.
		want *Token
		// wantErr is a substring of the error message.
		wantErr       string
		wantTokenErr  *TokenError // compared without Body
		wantTransient bool
	}{
		{
			name: "bearer with everything",
			a:    answer{200, "application/json; charset=utf-8", tokenJSON(`,"token_type":"Bearer","expires_in":86400,"scope":"openid  offline_access Manage:Pax8Data","id_token":"x.y.z"`)},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", RefreshToken: canaryRT, IDToken: "x.y.z",
				Scope: []string{"openid", "offline_access", "Manage:Pax8Data"}, ExpiresIn: 24 * time.Hour, Expiry: fixedNow.Add(24 * time.Hour)},
		},
		{
			name: "SEC-31 lowercase bearer",
			a:    answer{200, "application/json", tokenJSON(`,"token_type":"bearer"`)},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", RefreshToken: canaryRT},
		},
		{
			name: "absent token_type is bearer",
			a:    answer{200, "application/json", tokenJSON(``)},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", RefreshToken: canaryRT},
		},
		{name: "SEC-31 mac", a: answer{200, "application/json", tokenJSON(`,"token_type":"mac"`)}, wantErr: `unsupported token_type "mac"`},
		{name: "SEC-31 MAC", a: answer{200, "application/json", tokenJSON(`,"token_type":"MAC"`)}, wantErr: `unsupported token_type "MAC"`},
		{
			name: "expires_in numeric string",
			a:    answer{200, "application/json", tokenJSON(`,"token_type":"Bearer","expires_in":"86400"`)},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", RefreshToken: canaryRT, ExpiresIn: 24 * time.Hour, Expiry: fixedNow.Add(24 * time.Hour)},
		},
		{
			name: "expires_in float",
			a:    answer{200, "application/json", tokenJSON(`,"token_type":"Bearer","expires_in":3600.0`)},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", RefreshToken: canaryRT, ExpiresIn: time.Hour, Expiry: fixedNow.Add(time.Hour)},
		},
		{
			name: "expires_in null",
			a:    answer{200, "application/json", tokenJSON(`,"token_type":"Bearer","expires_in":null`)},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", RefreshToken: canaryRT},
		},
		{name: "expires_in negative", a: answer{200, "application/json", tokenJSON(`,"expires_in":-1`)}, wantErr: "invalid expires_in"},
		{name: "expires_in zero", a: answer{200, "application/json", tokenJSON(`,"expires_in":0`)}, wantErr: "invalid expires_in"},
		{name: "expires_in abc", a: answer{200, "application/json", tokenJSON(`,"expires_in":"abc"`)}, wantErr: "invalid expires_in"},
		{name: "expires_in huge", a: answer{200, "application/json", tokenJSON(`,"expires_in":1e12`)}, wantErr: "invalid expires_in"},
		{name: "expires_in bool", a: answer{200, "application/json", tokenJSON(`,"expires_in":true`)}, wantErr: "invalid expires_in"},
		{
			name: "SEC-32 empty scope",
			a:    answer{200, "application/json", tokenJSON(`,"scope":""`)},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", RefreshToken: canaryRT, Scope: []string{}},
		},
		{
			name: "form-encoded answer",
			a:    answer{200, "application/x-www-form-urlencoded", "access_token=" + canaryAT + "&token_type=bearer&expires_in=3600&scope=a+b"},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", Scope: []string{"a", "b"}, ExpiresIn: time.Hour, Expiry: fixedNow.Add(time.Hour)},
		},
		{
			name: "json without content type",
			a:    answer{200, "", tokenJSON(`,"token_type":"Bearer"`)},
			want: &Token{AccessToken: canaryAT, TokenType: "Bearer", RefreshToken: canaryRT},
		},
		{name: "no access_token", a: answer{200, "application/json", `{"token_type":"Bearer","refresh_token":"` + canaryRT + `"}`}, wantErr: "missing access_token"},
		{name: "access_token not a string", a: answer{200, "application/json", `{"access_token":12}`}, wantErr: "access_token is not a string"},
		{
			name:         "html at 200",
			a:            answer{200, "text/html; charset=utf-8", html},
			wantErr:      "token endpoint answered 200 text/html, want JSON",
			wantTokenErr: &TokenError{Status: 200, ContentType: "text/html"},
		},
		{
			name:          "html at 500",
			a:             answer{500, "text/html", html},
			wantErr:       "token endpoint answered 500 text/html, want JSON",
			wantTokenErr:  &TokenError{Status: 500, ContentType: "text/html"},
			wantTransient: true,
		},
		{
			name:          "json error at 500",
			a:             answer{500, "application/json", `{"error":"server_error","error_description":"try later"}`},
			wantErr:       "token endpoint error server_error (status 500): try later",
			wantTokenErr:  &TokenError{Code: "server_error", Description: "try later", Status: 500, ContentType: "application/json"},
			wantTransient: true,
		},
		{
			name:          "429 without body",
			a:             answer{429, "text/plain", ""},
			wantErr:       "token endpoint answered 429 text/plain, empty body",
			wantTokenErr:  &TokenError{Status: 429, ContentType: "text/plain"},
			wantTransient: true,
		},
		{
			name:         "invalid_grant at 403 echoing the code",
			a:            answer{403, "application/json", `{"error":"invalid_grant","error_description":"Unknown code ` + canaryCode + `","error_uri":"https://h/e"}`},
			wantErr:      "token endpoint error invalid_grant (status 403): Unknown code REDACTED",
			wantTokenErr: &TokenError{Code: "invalid_grant", Description: "Unknown code REDACTED", URI: "https://h/e", Status: 403, ContentType: "application/json"},
		},
		{
			name:         "error at 200",
			a:            answer{200, "application/json", `{"error":"access_denied","error_description":"Unauthorized","access_token":"` + canaryAT + `"}`},
			wantErr:      "token endpoint error access_denied (status 200): Unauthorized",
			wantTokenErr: &TokenError{Code: "access_denied", Description: "Unauthorized", Status: 200, ContentType: "application/json"},
		},
		{
			name:         "401 json without error code",
			a:            answer{401, "application/json", `{"message":"` + canaryAT + `"}`},
			wantErr:      "token endpoint answered 401 application/json, without an error code",
			wantTokenErr: &TokenError{Status: 401, ContentType: "application/json"},
		},
		{
			name:         "malformed json",
			a:            answer{200, "application/json", `{"access_token":"` + canaryAT},
			wantErr:      "token endpoint answered 200 application/json, body is not a JSON object",
			wantTokenErr: &TokenError{Status: 200, ContentType: "application/json"},
		},
		{
			name:         "huge body",
			a:            answer{200, "application/json", `{"access_token":"` + canaryAT + `","pad":"` + strings.Repeat("a", maxBody) + `"}`},
			wantErr:      "token endpoint answered 200 application/json, body larger than 1 MiB",
			wantTokenErr: &TokenError{Status: 200, ContentType: "application/json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := answering(t, tt.a)
			got, err := Do(t.Context(), srv.Client(), func() time.Time { return fixedNow }, codeRequest(srv.URL))
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if got.Raw["access_token"] != canaryAT {
					t.Errorf("Raw[access_token] = %v, want the access token", got.Raw["access_token"])
				}
				got.Raw = nil
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Do (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Do succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Do error = %q, want it to contain %q", err, tt.wantErr)
			}
			assertNoCanary(t, err)
			te, isTE := errors.AsType[*TokenError](err)
			if tt.wantTokenErr != nil {
				if !isTE {
					t.Fatalf("Do error %T, want *TokenError", err)
				}
				if diff := cmp.Diff(tt.wantTokenErr, te, cmp.AllowUnexported(TokenError{}), cmpIgnoreDetail); diff != "" {
					t.Errorf("TokenError (-want +got):\n%s", diff)
				}
			} else if isTE {
				t.Errorf("Do error is a *TokenError, want a plain error")
			}
			if got := IsTransient(err); got != tt.wantTransient {
				t.Errorf("IsTransient(%q) = %v, want %v", err, got, tt.wantTransient)
			}
			if IsSentUncertain(err) {
				t.Errorf("IsSentUncertain(%q) = true for an answered request", err)
			}
		})
	}
}

// assertNoCanary fails when err, formatted or logged, shows a secret (SEC-61).
func assertNoCanary(t *testing.T, err error) {
	t.Helper()
	var b strings.Builder
	slogText(&b).Info("token failed", "err", err)
	if te, ok := errors.AsType[*TokenError](err); ok {
		slogText(&b).Info("token failed", "token_error", te)
	}
	forms := []string{err.Error(), fmt.Sprintf("%+v", err), b.String()}
	if te, ok := errors.AsType[*TokenError](err); ok {
		forms = append(forms, fmt.Sprintf("%#v", te))
	}
	for _, s := range forms {
		for _, c := range []string{canaryAT, canaryRT, canaryCode, canarySecret} {
			if strings.Contains(s, c) {
				t.Errorf("SEC-61: %q reveals canary %s", s, c)
			}
		}
	}
}

var cmpIgnoreDetail = cmp.FilterPath(func(p cmp.Path) bool {
	s := p.Last().String()
	return s == ".detail"
}, cmp.Ignore())

func TestTokenRedacted(t *testing.T) {
	tok := &Token{AccessToken: canaryAT, RefreshToken: canaryRT, IDToken: "id-" + canaryAT}
	var b strings.Builder
	slogText(&b).Info("got", "token", tok, "value", *tok)
	for _, s := range []string{fmtAll(tok), fmtAll(*tok), b.String()} {
		if strings.Contains(s, canaryAT) || strings.Contains(s, canaryRT) {
			t.Errorf("SEC-61: %q reveals a token", s)
		}
	}
	var _ slog.LogValuer = tok
}

func TestScrub(t *testing.T) {
	got := scrub("bad\ncode "+canaryCode+" "+strings.Repeat("x", 300), newRedactor("", "", []string{canaryCode, "", "ab"}))
	if strings.Contains(got, canaryCode) || strings.Contains(got, "\n") || len(got) > maxDescription+len("…") {
		t.Errorf("scrub = %q, want no secret, no newline, at most %d bytes", got, maxDescription)
	}
}
