package oauthx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/provider"
)

// Every secret of the echo tests contains the marker, which none of the
// forms redaction must catch can hide: raw, URL-encoded and JSON-escaped
// forms keep it as it is, and base64 is decoded by the check.
const echoMarker = "CANARY"

// echoSecret has what makes encodings differ: "/ + = & % \" \\", a space,
// and non-ASCII (two-, three- and four-byte UTF-8).
const echoSecret = echoMarker + `/FORM+SECRET=1&x%y"q\z é€😀-end`

// echoVariants are ways a token endpoint may echo the request it got.
var echoVariants = map[string]func(r *http.Request, body string) string{
	"body":         func(_ *http.Request, body string) string { return body },
	"decoded body": func(_ *http.Request, body string) string { return decoded(body) },
	"headers": func(r *http.Request, _ string) string {
		return "Authorization: " + r.Header.Get("Authorization")
	},
	"basic decoded": func(r *http.Request, _ string) string {
		id, secret, _ := r.BasicAuth()
		return id + ":" + secret
	},
	"query escaped": func(_ *http.Request, body string) string { return "https://x.example/?b=" + url.QueryEscape(body) },
	"path escaped":  func(_ *http.Request, body string) string { return "https://x.example/" + url.PathEscape(decoded(body)) },
	"lower hex": func(_ *http.Request, body string) string {
		return regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(body, strings.ToLower)
	},
	"quoted ascii": func(_ *http.Request, body string) string { return strconv.QuoteToASCII(decoded(body)) },
	"json ascii slash": func(_ *http.Request, body string) string {
		b, _ := json.Marshal(decoded(body))
		var out strings.Builder
		for _, r := range strings.ReplaceAll(string(b), "/", `\/`) {
			if r < 0x80 {
				out.WriteRune(r)
			} else {
				out.WriteString(strings.Trim(strconv.QuoteRuneToASCII(r), "'"))
			}
		}
		return out.String()
	},
}

// decoded is a form body decoded, or a JSON body as it is.
func decoded(body string) string {
	if d, err := url.QueryUnescape(body); err == nil {
		return d
	}
	return body
}

// echoPlaces are where in its answer the endpoint puts the echo, and what
// grantd makes of it.
var echoPlaces = map[string]func(w http.ResponseWriter, echo string){
	"error_description": func(w http.ResponseWriter, echo string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": echo})
	},
	"error_uri": func(w http.ResponseWriter, echo string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_uri": echo})
	},
	"error": func(w http.ResponseWriter, echo string) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": echo})
	},
	"token_type": func(w http.ResponseWriter, echo string) {
		writeJSON(w, http.StatusOK, map[string]string{"access_token": "at-1", "token_type": echo})
	},
	"form error": func(w http.ResponseWriter, echo string) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, url.Values{"error": {"invalid_grant"}, "error_description": {echo}}.Encode())
	},
	"html page": func(w http.ResponseWriter, echo string) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<pre>"+echo+"</pre>")
	},
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// TestSecretsNeverEchoed is SEC-38 and SEC-61 for provider text: a token
// endpoint that echoes the request (its body, decoded or re-encoded, and
// its Authorization header) in error_description, error_uri, error,
// token_type or an HTML page never gets a secret of the request into
// anything oauthx returns: Error(), every fmt verb, slog text and JSON, and
// every field of the TokenError or MalformedResponse.
func TestSecretsNeverEchoed(t *testing.T) {
	requests := map[string]Request{
		"client secret in form body": {ClientID: "client-1", ClientSecret: echoSecret,
			Params: map[string]string{"grant_type": "client_credentials", "audience": "api://x"}},
		"client secret in basic": {ClientID: "client/1 é", ClientSecret: echoSecret, ClientAuth: provider.ClientAuthBasic,
			Params: map[string]string{"grant_type": "client_credentials"}},
		"client secret in json": {ClientID: "client-1", ClientSecret: echoSecret, Encoding: provider.JSON,
			Params: map[string]string{"grant_type": "client_credentials"}},
		"refresh token": {ClientID: "client-1", ClientSecret: echoMarker + "-s3",
			Params: map[string]string{"grant_type": "refresh_token", "refresh_token": "RT-" + echoSecret}},
		"code and verifier": {ClientID: "client-1", ClientSecret: echoMarker + "-s4", Encoding: provider.JSON,
			Params: map[string]string{"grant_type": "authorization_code", "code": "code-" + echoSecret,
				"code_verifier": "ver-" + echoSecret, "redirect_uri": "https://grantd.example/cb"}},
		"partner bearer": {Bearer: "partner-" + echoSecret,
			Params: map[string]string{"grant_type": "refresh_token", "refresh_token": echoMarker + "-rt", "scope": "client:1"}},
		"client assertion": {ClientID: "client-1",
			Params: map[string]string{"grant_type": "client_credentials", "client_assertion": "eyJ." + echoSecret + ".sig",
				"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}},
	}
	for vname, variant := range echoVariants {
		for pname, place := range echoPlaces {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				place(w, variant(r, string(b)))
			}))
			for rname, req := range requests {
				t.Run(rname+"/"+vname+"/"+pname, func(t *testing.T) {
					req.TokenURL = srv.URL
					tok, err := Do(t.Context(), srv.Client(), nil, req)
					if err == nil {
						t.Fatalf("Do = %v, want an error", tok)
					}
					for what, s := range exposed(err) {
						if leak := findMarker(s); leak != "" {
							t.Errorf("%s shows a secret (%s): %q", what, leak, s)
						}
					}
				})
			}
			srv.Close()
		}
	}
}

// exposed is everything a caller can get out of err.
func exposed(err error) map[string]string {
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("x", "err", err)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "err", err)
	out := map[string]string{
		"Error()": err.Error(),
		"fmt":     fmt.Sprintf("%v|%+v|%#v|%s|%q", err, err, err, err, err),
		"slog":    text.String() + js.String(),
	}
	if te, ok := errors.AsType[*TokenError](err); ok {
		out["TokenError"] = strings.Join([]string{te.Code, te.Description, te.URI, te.ContentType, te.detail}, "|")
	}
	if mr, ok := errors.AsType[*MalformedResponse](err); ok {
		out["MalformedResponse"] = mr.Reason + "|" + mr.RefreshToken + "|" + mr.String() + "|" + mr.GoString()
	}
	return out
}

// findMarker reports how s shows the marker: as is (raw, URL-encoded or
// JSON-escaped forms all keep it), case-folded, or inside base64.
func findMarker(s string) string {
	if strings.Contains(strings.ToUpper(s), echoMarker) {
		return "text"
	}
	for _, run := range base64Run.FindAllString(s, -1) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if d, err := enc.DecodeString(run); err == nil && strings.Contains(string(d), echoMarker) {
				return "base64"
			}
		}
	}
	return ""
}
