package oauthx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Token is a successful token response (RFC 6749 §5.1). It holds secrets:
// its String, GoString and LogValue print REDACTED.
type Token struct {
	// AccessToken is the access token, never empty.
	AccessToken string
	// TokenType is "Bearer" (matched case-insensitively, SEC-31; an absent
	// token_type is taken as Bearer).
	TokenType string
	// RefreshToken is the refresh token, empty when none was issued.
	RefreshToken string
	// IDToken is the raw OpenID Connect id_token, empty when none was issued.
	// Verify it with [IDVerifier] before trusting anything else here.
	IDToken string
	// Scope is the granted scope (SEC-32), nil when the response omitted it.
	Scope []string
	// ExpiresIn is the access token's lifetime, 0 when absent.
	ExpiresIn time.Duration
	// Expiry is the time the answer was parsed plus ExpiresIn, zero when
	// expires_in was absent.
	Expiry time.Time
	// Raw is every field of the answer, for the caller's extras. Numbers
	// from JSON are [json.Number]; form answers give strings.
	Raw map[string]any
}

// String implements [fmt.Stringer] without revealing any token.
func (Token) String() string { return "REDACTED" }

// GoString implements [fmt.GoStringer] without revealing any token.
func (Token) GoString() string { return "oauthx.Token{REDACTED}" }

// LogValue implements [slog.LogValuer]: REDACTED.
func (Token) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// maxExpiresIn bounds a believable access-token lifetime.
const maxExpiresIn = 366 * 24 * time.Hour

// parseResponse turns a token endpoint's answer into a Token or an error. It
// is lenient where vendors differ and strict where safety needs it, and no
// error it returns contains a token or, in any form rd knows, a secret of
// the request.
func parseResponse(status int, contentType string, body []byte, now time.Time, rd *redactor) (*Token, error) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	mediaType = strings.ToLower(mediaType)
	if mediaType == "" && contentType != "" {
		mediaType = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	if strings.Trim(mediaType, "abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-/") != "" {
		mediaType = "unparseable content type" // and perhaps an echo
	}
	te := &TokenError{Status: status, ContentType: mediaType}
	if len(body) > maxBody {
		te.detail = "body larger than 1 MiB"
		return nil, te
	}

	fields, ok := decodeFields(mediaType, body)
	if !ok {
		switch {
		case len(bytes.TrimSpace(body)) == 0:
			te.detail = "empty body, want JSON"
		case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
			te.detail = "body is not a JSON object"
		default:
			te.detail = "want JSON"
		}
		return nil, te
	}

	if code, _ := fields["error"].(string); code != "" {
		te.Code = scrub(code, rd)
		desc, _ := fields["error_description"].(string)
		te.Description = scrub(desc, rd)
		uri, _ := fields["error_uri"].(string)
		te.URI = scrub(uri, rd)
		return nil, te
	}
	if status < 200 || status > 299 {
		te.detail = "without an error code"
		return nil, te
	}

	tok, err := tokenFromFields(fields, now, rd)
	if err != nil {
		rt, _ := fields["refresh_token"].(string)
		return nil, &MalformedResponse{Reason: scrub(err.Error(), rd), RefreshToken: rt}
	}
	return tok, nil
}

// MalformedResponse is a successful (2xx) token response that cannot be
// used: a missing access token, an unknown token_type, a bad expires_in or
// scope. Reason has every secret of the request replaced by REDACTED. The provider may nonetheless have rotated the refresh token in
// it; RefreshToken then holds the new one, so the caller can keep the grant
// alive instead of replaying the consumed token. Error, String and
// LogValue never show it.
type MalformedResponse struct {
	Reason       string
	RefreshToken string
}

func (e *MalformedResponse) Error() string { return "token response: " + e.Reason }

// String implements [fmt.Stringer] without the refresh token.
func (e *MalformedResponse) String() string { return e.Error() }

// GoString keeps %#v from printing the refresh token.
func (e *MalformedResponse) GoString() string {
	return "&oauthx.MalformedResponse{Reason: " + strconv.Quote(e.Reason) + ", RefreshToken: REDACTED}"
}

// LogValue implements [slog.LogValuer] without the refresh token.
func (e *MalformedResponse) LogValue() slog.Value {
	return slog.GroupValue(slog.String("reason", e.Reason), slog.Bool("rotated_refresh_token", e.RefreshToken != ""))
}

// decodeFields decodes a JSON object, or a form-encoded body as x/oauth2
// accepts. JSON is tried for JSON media types and for text/plain or a
// missing content type, which some servers send.
func decodeFields(mediaType string, body []byte) (map[string]any, bool) {
	switch {
	case mediaType == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil || len(v) == 0 {
			return nil, false
		}
		m := make(map[string]any, len(v))
		for k := range v {
			m[k] = v.Get(k)
		}
		return m, true
	case mediaType == "application/json", strings.HasSuffix(mediaType, "+json"),
		mediaType == "text/javascript", mediaType == "text/plain", mediaType == "":
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || m == nil {
			return nil, false
		}
		if dec.More() {
			return nil, false
		}
		return m, true
	}
	return nil, false
}

// tokenFromFields checks and converts the fields of a successful answer.
func tokenFromFields(f map[string]any, now time.Time, rd *redactor) (*Token, error) {
	tok := &Token{Raw: f}
	var err error
	if tok.AccessToken, err = stringField(f, "access_token"); err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, errors.New("missing access_token")
	}
	typ, err := stringField(f, "token_type")
	if err != nil {
		return nil, err
	}
	if typ != "" && !strings.EqualFold(typ, "bearer") {
		// RFC 6749 §7.1: a client must not use a token whose type it does
		// not understand (SEC-31). A provider may echo anything here,
		// secrets included.
		return nil, fmt.Errorf("unsupported token_type %q", scrub(typ, rd))
	}
	tok.TokenType = "Bearer"
	if tok.RefreshToken, err = stringField(f, "refresh_token"); err != nil {
		return nil, err
	}
	if tok.IDToken, err = stringField(f, "id_token"); err != nil {
		return nil, err
	}
	if tok.Scope, err = scopeField(f["scope"]); err != nil {
		return nil, err
	}
	if tok.ExpiresIn, err = expiresIn(f["expires_in"]); err != nil {
		return nil, err
	}
	if tok.ExpiresIn > 0 {
		tok.Expiry = now.Add(tok.ExpiresIn)
	}
	return tok, nil
}

// stringField returns f[name] when it is a string or absent.
func stringField(f map[string]any, name string) (string, error) {
	switch v := f[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", fmt.Errorf("%s is not a string", name)
	}
}

// scopeField reads scope as RFC 6749 §3.3's space-separated string, or as a
// JSON array of strings, which a few servers send.
func scopeField(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return append([]string{}, strings.Fields(v)...), nil
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			str, ok := s.(string)
			if !ok {
				return nil, errors.New("invalid scope")
			}
			out = append(out, strings.Fields(str)...)
		}
		return out, nil
	default:
		return nil, errors.New("invalid scope")
	}
}

// expiresIn reads expires_in as a JSON number or a numeric string ("86400",
// as Daxko may send), fractions allowed. It must be positive and at most 366
// days; absent or null gives 0.
func expiresIn(v any) (time.Duration, error) {
	var s string
	switch v := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	case float64:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return 0, errors.New("invalid expires_in")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > maxExpiresIn.Seconds() {
		return 0, errors.New("invalid expires_in")
	}
	return time.Duration(f * float64(time.Second)), nil
}
