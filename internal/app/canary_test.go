package app

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/vault"
)

// TestCanarySEC34SEC42SEC61 drives the whole of grantd (API, connect pages,
// broker, proxy, actions, background refresher) against a sandbox whose
// every request is recorded: connect through the real connect page, read
// tokens, force refreshes, proxy calls, an action, and a proxied call the
// provider answers 401 so the proxy refreshes and retries. Every token the
// sandbox issued is then looked for in every request grantd sent:
//
//   - SEC-34: a refresh token appears (raw, URL-encoded or base64) only in
//     the body of a POST to the token endpoint with grant_type
//     refresh_token, as that request's refresh_token;
//   - SEC-42: an access token appears only as "Authorization: Bearer" of a
//     request to the API base or userinfo, never in a query, a body or
//     another header;
//   - SEC-61: with grantd logging at debug level, no token, id_token or the
//     client secret appears in its logs.
func TestCanarySEC34SEC42SEC61(t *testing.T) {
	logs := &syncBuffer{}
	s := startStack(t, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), func(c *config.Config) {
		c.Refresh.MinForcedInterval = 0 // the scan forces refreshes back to back
	})
	id := s.connect(t)
	tokenPath := mustPath(t, s.endpoints.TokenURL)

	// stored collects every token the connection held, read from the store
	// after each step.
	stored := map[string]bool{}
	readAccess := map[string]bool{}
	snapshot := func(step string) {
		t.Helper()
		c, err := s.app.Store().GetConnection(t.Context(), id)
		if err != nil {
			t.Fatalf("%s: GetConnection: %v", step, err)
		}
		rt, err := s.app.Vault().Open(c.RefreshToken, vault.AAD("connection", id, "refresh_token"))
		if err != nil || len(rt) == 0 {
			t.Fatalf("%s: open refresh token: %d bytes, %v", step, len(rt), err)
		}
		stored[string(rt)] = true
	}
	getToken := func() {
		t.Helper()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if st := s.call(t, http.MethodGet, "/v1/connections/"+id+"/token", nil, &tok, nil); st != http.StatusOK || tok.AccessToken == "" {
			t.Fatalf("GET token = %d, want 200 with a token", st)
		}
		readAccess[tok.AccessToken] = true
	}
	expect := func(method, path string, body any, want int) {
		t.Helper()
		if got := s.call(t, method, path, body, nil, nil); got != want {
			t.Fatalf("%s %s = %d, want %d", method, path, got, want)
		}
	}

	snapshot("connect")
	getToken()
	getToken()
	const forced = 3
	for i := range forced {
		expect(http.MethodPost, "/v1/connections/"+id+"/refresh", nil, http.StatusOK)
		snapshot(fmt.Sprintf("forced refresh %d", i+1))
		getToken()
	}
	expect(http.MethodGet, "/v1/proxy/"+id+"/companies?page=0&size=5", nil, http.StatusOK)
	snapshot("proxy")
	expect(http.MethodPost, "/v1/connections/"+id+"/actions/pax8.list_companies", map[string]any{"size": 5}, http.StatusOK)
	snapshot("action")

	// The provider refuses the next API call: the proxy refreshes once and
	// retries with the new token.
	if err := s.sandbox.AddFault(sandbox.Fault{Endpoint: "api", Kind: "unauthorized"}); err != nil {
		t.Fatal(err)
	}
	before := len(stored)
	expect(http.MethodGet, "/v1/proxy/"+id+"/companies?page=0&size=5", nil, http.StatusOK)
	snapshot("proxy after 401")
	getToken()
	if len(stored) != before+1 {
		t.Errorf("the 401 left %d refresh tokens, want a refresh (one more than %d)", len(stored), before)
	}

	reqs := s.rec.all()
	issued := issuedTokens(t, reqs, tokenPath)
	if n := len(issued["refresh_token"]); n != forced+2 {
		t.Errorf("the sandbox issued %d refresh tokens, want %d (connect, %d forced, one after the 401)", n, forced+2, forced)
	}
	for rt := range stored {
		if !issued["refresh_token"][rt] {
			t.Errorf("a stored refresh token was not issued by the token endpoint")
		}
	}
	for at := range readAccess {
		if !issued["access_token"][at] {
			t.Errorf("the API returned an access token the token endpoint did not issue")
		}
	}
	if got := countStatus(reqs, "/pax8-api/", http.StatusUnauthorized); got != 1 {
		t.Errorf("the API answered 401 %d times, want 1", got)
	}

	// SEC-34: every refresh token went only to the token endpoint, as the
	// refresh_token of a refresh grant, and every one that was replaced
	// was actually sent there (the scan is not vacuous).
	sentRefresh := map[string]int{}
	for rt := range issued["refresh_token"] {
		for _, r := range reqs {
			for _, where := range locate(r, rt) {
				if ok, val := refreshGrant(r, tokenPath); ok && where == "body" && val == rt {
					sentRefresh[rt]++
					continue
				}
				t.Errorf("SEC-34: a refresh token (prefix %.6s…) is in the %s of %s %s", rt, where, r.Method, r.Path)
			}
		}
	}
	if got, want := len(sentRefresh), len(issued["refresh_token"])-1; got != want {
		t.Errorf("SEC-34: %d refresh tokens were sent to the token endpoint, want %d (all but the current one)", got, want)
	}

	// SEC-42: access tokens only as a bearer header, only to the API and
	// userinfo.
	userinfoPath := mustPath(t, s.endpoints.UserinfoURL)
	apiPath := mustPath(t, s.endpoints.APIBaseURL) + "/"
	bearerUses := 0
	for at := range issued["access_token"] {
		for _, r := range reqs {
			for _, where := range locate(r, at) {
				if where == "header Authorization" && r.Header.Get("Authorization") == "Bearer "+at &&
					(r.Path == userinfoPath || strings.HasPrefix(r.Path, apiPath)) {
					bearerUses++
					continue
				}
				t.Errorf("SEC-42: an access token (prefix %.6s…) is in the %s of %s %s", at, where, r.Method, r.Path)
			}
		}
	}
	if bearerUses < 3 {
		t.Errorf("SEC-42: access tokens were sent as bearer %d times, want at least the proxy, action and retry calls", bearerUses)
	}

	// An id_token is kept, never sent anywhere.
	for idt := range issued["id_token"] {
		for _, r := range reqs {
			if where := locate(r, idt); len(where) > 0 {
				t.Errorf("an id_token is in the %s of %s %s", strings.Join(where, ", "), r.Method, r.Path)
			}
		}
	}

	// SEC-61: nothing secret in grantd's debug logs.
	out := logs.String()
	if !strings.Contains(out, "level=DEBUG") && !strings.Contains(out, "level=INFO") {
		t.Errorf("grantd logged nothing at debug or info; the log scan proves nothing:\n%s", out)
	}
	secrets := []string{s.clientSecret}
	for _, kind := range []string{"access_token", "refresh_token", "id_token"} {
		for v := range issued[kind] {
			secrets = append(secrets, v)
		}
	}
	for _, v := range secrets {
		if hit := findSecret(out, v); hit != "" {
			t.Errorf("SEC-61: a secret (prefix %.6s…) is in grantd's logs (%s)", v, hit)
		}
	}
}

// issuedTokens returns, by field, every token the token endpoint issued in
// the recorded answers.
func issuedTokens(t *testing.T, reqs []recorded, tokenPath string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{"access_token": {}, "refresh_token": {}, "id_token": {}}
	for _, r := range reqs {
		if r.Path != tokenPath || r.Status != http.StatusOK {
			continue
		}
		var answer map[string]any
		if err := json.Unmarshal(r.Answer, &answer); err != nil {
			t.Fatalf("token endpoint answer is not JSON: %v", err)
		}
		for field, set := range out {
			if v, ok := answer[field].(string); ok && v != "" {
				set[v] = true
			}
		}
	}
	return out
}

// refreshGrant reports whether r is a refresh grant at the token endpoint,
// and the refresh_token it carries.
func refreshGrant(r recorded, tokenPath string) (bool, string) {
	if r.Method != http.MethodPost || r.Path != tokenPath || r.RawQuery != "" {
		return false, ""
	}
	params := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return false, ""
		}
		for k := range v {
			params[k] = v.Get(k)
		}
	case "application/json":
		if json.Unmarshal(r.Body, &params) != nil {
			return false, ""
		}
	default:
		return false, ""
	}
	return params["grant_type"] == "refresh_token", params["refresh_token"]
}

// locate returns the parts of r (path, query, each header, body) in which
// secret appears in any of the encodings [findSecret] knows.
func locate(r recorded, secret string) []string {
	var where []string
	if findSecret(r.Path, secret) != "" {
		where = append(where, "path")
	}
	if findSecret(r.RawQuery, secret) != "" {
		where = append(where, "query")
	}
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		if findSecret(strings.Join(r.Header[k], "\n"), secret) != "" {
			where = append(where, "header "+k)
		}
	}
	if findSecret(string(r.Body), secret) != "" {
		where = append(where, "body")
	}
	return where
}

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{8,}={0,2}`)

// findSecret reports how secret appears in text: raw, URL-encoded, or
// inside a base64 run (standard or URL alphabet, padded or not, as in a
// Basic header). It returns "" when it does not.
func findSecret(text, secret string) string {
	if secret == "" {
		return ""
	}
	if strings.Contains(text, secret) {
		return "raw"
	}
	for _, enc := range []string{url.QueryEscape(secret), url.PathEscape(secret)} {
		if strings.Contains(text, enc) {
			return "url-encoded"
		}
	}
	if u, err := url.QueryUnescape(text); err == nil && strings.Contains(u, secret) {
		return "url-encoded"
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if strings.Contains(text, enc.EncodeToString([]byte(secret))) {
			return "base64"
		}
	}
	for _, run := range base64Run.FindAllString(text, -1) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(run); err == nil && strings.Contains(string(b), secret) {
				return "base64"
			}
		}
	}
	return ""
}

// countStatus counts the recorded answers with status under path prefix.
func countStatus(reqs []recorded, prefix string, status int) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, prefix) && r.Status == status {
			n++
		}
	}
	return n
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.EscapedPath()
}

// TestCanaryScanner checks the scanner the canary tests rely on: a secret
// hidden raw, URL-encoded, or base64-encoded at an offset (as in a Basic
// header) is found in the right place, and a request without it is clean.
func TestCanaryScanner(t *testing.T) {
	const rt = "v1.Rt/+canary=="
	basic := base64.StdEncoding.EncodeToString([]byte("client:" + rt))
	for _, tc := range []struct {
		name string
		r    recorded
		want []string
	}{
		{"clean", recorded{Path: "/a", RawQuery: "x=1", Header: http.Header{"Authorization": {"Bearer other"}}, Body: []byte("refresh_token=v1.other")}, nil},
		{"raw path", recorded{Path: "/a/" + rt}, []string{"path"}},
		{"query escaped", recorded{Path: "/a", RawQuery: "refresh_token=" + url.QueryEscape(rt)}, []string{"query"}},
		{"basic header", recorded{Path: "/a", Header: http.Header{"Authorization": {"Basic " + basic}}}, []string{"header Authorization"}},
		{"url base64 body", recorded{Path: "/a", Body: []byte(`{"x":"` + base64.RawURLEncoding.EncodeToString([]byte(rt)) + `"}`)}, []string{"body"}},
		{"form body", recorded{Path: "/a", Body: []byte(url.Values{"refresh_token": {rt}}.Encode())}, []string{"body"}},
	} {
		if got := locate(tc.r, rt); !slices.Equal(got, tc.want) {
			t.Errorf("%s: locate = %q, want %q", tc.name, got, tc.want)
		}
	}
	form := recorded{Method: http.MethodPost, Path: "/pax8/oauth/token", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body: []byte(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode())}
	if ok, got := refreshGrant(form, "/pax8/oauth/token"); !ok || got != rt {
		t.Errorf("refreshGrant(form) = %v, %q; want true, the token", ok, got)
	}
	if ok, _ := refreshGrant(form, "/pax8-api/v1/token"); ok {
		t.Error("refreshGrant accepted a POST to another path")
	}
	form.RawQuery = "refresh_token=" + rt
	if ok, _ := refreshGrant(form, "/pax8/oauth/token"); ok {
		t.Error("refreshGrant accepted a token endpoint request with a query")
	}
}
