package oauthx

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestScrubSecretForms is SEC-38 for provider text: each way a secret can
// come back in an error_description (the finding: the URL-encoded client
// secret "CANARY%2FFORM%2BSECRET…") is replaced or the text withheld, and
// ordinary text is left alone.
func TestScrubSecretForms(t *testing.T) {
	const id, sec = "client/1", `CANARY/FORM+SECRET=1&x%y"q\z é€😀`
	rd := newRedactor(id, sec, []string{"", "ab", "rt-" + sec})
	js, _ := json.Marshal(sec)
	for name, text := range map[string]string{
		"raw":                 "bad secret " + sec,
		"query escape":        "client_secret=CANARY%2FFORM%2BSECRET%3D1%26x%25y%22q%5Cz+%C3%A9%E2%82%AC%F0%9F%98%80&x=1",
		"query escape lower":  "client_secret=CANARY%2fFORM%2bSECRET%3d1%26x%25y%22q%5cz+%c3%a9%e2%82%ac%f0%9f%98%80",
		"query escape %20":    "CANARY%2FFORM%2BSECRET%3D1%26x%25y%22q%5Cz%20%C3%A9%E2%82%AC%F0%9F%98%80",
		"path escape":         "https://x.example/CANARY%2FFORM+SECRET=1&x%25y%22q%5Cz%20%C3%A9%E2%82%AC%F0%9F%98%80",
		"twice escaped":       "CANARY%252FFORM%252BSECRET%253D1%2526x%2525y%2522q%255Cz%2B%25C3%25A9%25E2%2582%25AC%25F0%259F%2598%2580",
		"json":                string(js),
		"json slash":          strings.ReplaceAll(string(js), "/", `\/`),
		"json ascii":          `"CANARY\/FORM+SECRET=1\u0026x%y\"q\\z \u00e9\u20ac\ud83d\ude00"`,
		"json ascii upper":    `"CANARY/FORM+SECRET=1&x%y\"q\\z \u00E9\u20AC\uD83D\uDE00"`,
		"go quoted":           `"CANARY/FORM+SECRET=1&x%y\"q\\z \u00e9\u20ac\U0001f600"`,
		"basic":               "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("client%2F1:CANARY%2FFORM%2BSECRET%3D1%26x%25y%22q%5Cz+%C3%A9%E2%82%AC%F0%9F%98%80")),
		"basic url alphabet":  base64.RawURLEncoding.EncodeToString([]byte("client%2F1:CANARY%2FFORM%2BSECRET%3D1%26x%25y%22q%5Cz+%C3%A9%E2%82%AC%F0%9F%98%80")),
		"basic not escaped":   base64.StdEncoding.EncodeToString([]byte(id + ":" + sec)),
		"refresh token":       "rt-" + sec,
		"json in go quote":    `"{\"client_secret\":\"CANARY/FORM+SECRET=1\\u0026x%y\\\"q\\\\z \u00e9\u20ac\U0001f600\"}"`,
		"html entities":       "CANARY/FORM+SECRET=1&amp;x%y&quot;q\\z é€😀",
		"split by a newline":  "CANARY/FORM+SECRET=1&x%y\"q\\z\né€😀",
		"base64 of json body": base64.StdEncoding.EncodeToString(js),
	} {
		got := scrub(text, rd)
		if strings.Contains(strings.ToUpper(got), "CANARY") || strings.Contains(got, "é€😀") {
			t.Errorf("%s: scrub(%q) = %q, shows the secret", name, text, got)
		}
		if !strings.Contains(got, "REDACTED") {
			t.Errorf("%s: scrub(%q) = %q, want REDACTED in it", name, text, got)
		}
	}
	for _, text := range []string{"invalid client credentials", "the code ab expired", "https://docs.example/errors#invalid_grant"} {
		if got := scrub(text, rd); got != text {
			t.Errorf("scrub(%q) = %q, want it unchanged", text, got)
		}
	}
}

// FuzzParseResponse checks the token-response parser on any answer: it
// never panics; a token it returns has an access token, the Bearer type
// and a believable lifetime; and no error it returns shows the request's
// secrets, whatever the answer echoes.
func FuzzParseResponse(f *testing.F) {
	const sec = `CANARY/s+=&%"\ é`
	for _, seed := range []struct {
		status      int
		contentType string
		body        string
	}{
		{200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt","scope":"a b"}`},
		{200, "application/json", `{"access_token":"at","expires_in":"86400.5","scope":["a","b"]}`},
		{200, "application/json;charset=utf-8", `{"access_token":"at","token_type":"CANARY/s+=&%\"\\ é"}`},
		{400, "application/json", `{"error":"invalid_client","error_description":"client_secret=CANARY%2Fs%2B%3D%26%25%22%5C+%C3%A9"}`},
		{400, "application/json", `{"error":"invalid_grant","error_uri":"CANARY\/s+=\u0026%\"\\ \u00e9"}`},
		{401, "application/x-www-form-urlencoded", "error=invalid_client&error_description=CANARY%2Fs%2B%3D%26%25%22%5C+%C3%A9"},
		{200, "text/html", "<html>CANARY/s+=&amp;%&quot;\\ é</html>"},
		{500, "", ""},
		{200, "text/plain", `{"access_token":"at","expires_in":1e400}`},
		{200, "application/json", `{"access_token":"at","token_type":"mac"}{}`},
	} {
		f.Add(seed.status, seed.contentType, []byte(seed.body))
	}
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	rd := newRedactor("client", sec, []string{"rt-" + sec})
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		tok, err := parseResponse(status, contentType, body, now, rd)
		if err != nil {
			if tok != nil {
				t.Fatalf("parseResponse returned a token and an error %v", err)
			}
			if msg := err.Error(); strings.Contains(msg, sec) || strings.Contains(msg, "rt-"+sec) {
				t.Fatalf("parseResponse error %q shows a secret", msg)
			}
			return
		}
		if tok.AccessToken == "" || tok.TokenType != "Bearer" {
			t.Fatalf("parseResponse = access token %q, type %q; want one, Bearer", tok.AccessToken, tok.TokenType)
		}
		if tok.ExpiresIn < 0 || tok.ExpiresIn > maxExpiresIn || (tok.ExpiresIn == 0) != tok.Expiry.IsZero() {
			t.Fatalf("parseResponse = expires_in %v, expiry %v", tok.ExpiresIn, tok.Expiry)
		}
		if status < 200 || status > 299 {
			t.Fatalf("parseResponse accepted a token with status %d", status)
		}
	})
}
