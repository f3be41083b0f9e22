package oauthx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/retry"
)

// Request is one token-endpoint call. It holds secrets: its String and
// LogValue print REDACTED.
type Request struct {
	// TokenURL is the token endpoint. It must be http or https and carry no
	// user information; secrets never go into it (SEC-38).
	TokenURL string
	// Encoding is the body encoding; the zero value means form.
	Encoding provider.Encoding
	// ClientAuth is where the client credentials go; the zero value means
	// body. With basic, id and secret are url.QueryEscape'd first
	// (RFC 6749 §2.3.1).
	ClientAuth provider.ClientAuth
	// ClientID is the client identifier. With body auth it is sent as
	// client_id when not empty.
	ClientID string
	// ClientSecret is the client secret. With body auth it is sent as
	// client_secret when not empty.
	ClientSecret string
	// Bearer, when set, is sent as "Authorization: Bearer" (Daxko's partner
	// refresh token). It cannot be combined with basic client auth.
	Bearer string
	// Params are the grant's parameters: grant_type, code, redirect_uri,
	// code_verifier, refresh_token, audience, scope… They must not carry
	// client_id or client_secret, which come from the fields above.
	Params map[string]string
}

// String implements [fmt.Stringer] without revealing any secret.
func (Request) String() string { return "REDACTED" }

// GoString implements [fmt.GoStringer] without revealing any secret.
func (Request) GoString() string { return "oauthx.Request{REDACTED}" }

// LogValue implements [slog.LogValuer]: the endpoint, dialect and parameter
// names, never their values.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token_url", r.TokenURL),
		slog.String("encoding", string(r.encoding())),
		slog.String("client_auth", string(r.clientAuth())),
		slog.String("grant_type", r.Params["grant_type"]),
		slog.Any("params", slices.Sorted(maps.Keys(r.Params))),
	)
}

func (r Request) encoding() provider.Encoding {
	if r.Encoding == "" {
		return provider.Form
	}
	return r.Encoding
}

func (r Request) clientAuth() provider.ClientAuth {
	if r.ClientAuth == "" {
		return provider.ClientAuthBody
	}
	return r.ClientAuth
}

// redactor replaces every form of every secret of r (client secret, partner
// bearer token, code, refresh token, PKCE verifier, client assertion…) in
// a provider's text.
func (r Request) redactor() *redactor {
	s := []string{r.Bearer}
	for _, k := range []string{"code", "refresh_token", "token", "code_verifier", "client_assertion", "password", "subject_token", "actor_token"} {
		s = append(s, r.Params[k])
	}
	return newRedactor(r.ClientID, r.ClientSecret, s)
}

// defaultClient is used when Do is given a nil client: never wait forever.
var defaultClient = &http.Client{Timeout: 30 * time.Second}

// maxBody caps how much of an answer is read (as x/oauth2 does).
const maxBody = 1 << 20

// Do sends r and returns the token the endpoint issued. now stamps
// [Token.Expiry]; nil means time.Now. A nil hc means a client with a 30 s
// timeout. Do follows no redirects (a redirected POST would carry the secret
// elsewhere) and never retries; see [IsTransient] and [IsSentUncertain] for
// what the caller may do with a failure.
func Do(ctx context.Context, hc *http.Client, now func() time.Time, r Request) (*Token, error) {
	if now == nil {
		now = time.Now
	}
	req, err := r.build(ctx)
	if err != nil {
		return nil, err
	}
	status, contentType, retryAfter, body, err := send(hc, req)
	if err != nil {
		return nil, err
	}
	tok, err := parseResponse(status, contentType, body, now(), r.redactor())
	if te, ok := errors.AsType[*TokenError](err); ok {
		te.RetryAfter = retry.ParseRetryAfter(retryAfter, now())
	}
	return tok, err
}

// send posts req with a copy of hc (nil means a client with a 30 s
// timeout) that follows no redirects, and reads at most maxBody+1 bytes of
// the answer. A failure is a [*sendError] recording whether the request
// may have reached the server.
func send(hc *http.Client, req *http.Request) (status int, contentType, retryAfter string, body []byte, err error) {
	if hc == nil {
		hc = defaultClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))

	resp, err := c.Do(req)
	if err != nil {
		return 0, "", "", nil, &sendError{err: err, sent: wrote.Load()}
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, "", "", nil, &sendError{err: fmt.Errorf("read answer: %w", err), sent: true}
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), body, nil
}

// build makes the HTTP request for r, checking that secrets have a place to
// go that is not the URL.
func (r Request) build(ctx context.Context) (*http.Request, error) {
	if r.Params["grant_type"] == "" {
		if err := r.checkURL("token"); err != nil {
			return nil, err
		}
		return nil, errors.New("token request: missing grant_type")
	}
	return r.buildFor(ctx, "token")
}

// checkURL checks that r.TokenURL, the endpoint named what ("token",
// "revocation"), is an absolute http(s) URL without user information.
func (r Request) checkURL(what string) error {
	u, err := url.Parse(r.TokenURL)
	if err != nil {
		return fmt.Errorf("%s request: unparseable %s url", what, what)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s request: %s url %q is not an absolute http(s) url", what, what, u.Redacted())
	}
	if u.User != nil {
		return fmt.Errorf("%s request: %s url must not carry user information", what, what)
	}
	return nil
}

// buildFor makes the HTTP request for r to the endpoint named what, with
// r's encoding and client authentication.
func (r Request) buildFor(ctx context.Context, what string) (*http.Request, error) {
	if err := r.checkURL(what); err != nil {
		return nil, err
	}
	u, err := url.Parse(r.TokenURL)
	if err != nil {
		return nil, fmt.Errorf("%s request: unparseable %s url", what, what)
	}
	for _, k := range []string{"client_id", "client_secret"} {
		if _, ok := r.Params[k]; ok {
			return nil, fmt.Errorf("%s request: params must not carry %s", what, k)
		}
	}

	params := make(map[string]string, len(r.Params)+2)
	maps.Copy(params, r.Params)
	auth := r.clientAuth()
	switch auth {
	case provider.ClientAuthBody:
		if r.ClientID != "" {
			params["client_id"] = r.ClientID
		}
		if r.ClientSecret != "" {
			params["client_secret"] = r.ClientSecret
		}
	case provider.ClientAuthBasic:
		if r.ClientID == "" {
			return nil, fmt.Errorf("%s request: basic client auth needs a client id", what)
		}
		if r.Bearer != "" {
			return nil, fmt.Errorf("%s request: bearer and basic client auth both use the authorization header", what)
		}
	default:
		return nil, fmt.Errorf("%s request: unknown client auth %q", what, auth)
	}

	var body []byte
	var contentType string
	switch enc := r.encoding(); enc {
	case provider.Form:
		v := make(url.Values, len(params))
		for k, s := range params {
			v.Set(k, s)
		}
		body, contentType = []byte(v.Encode()), "application/x-www-form-urlencoded"
	case provider.JSON:
		body, err = json.Marshal(params)
		if err != nil {
			return nil, fmt.Errorf("%s request: encode json: %w", what, err)
		}
		contentType = "application/json"
	default:
		return nil, fmt.Errorf("%s request: unknown encoding %q", what, enc)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s request: %w", what, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if auth == provider.ClientAuthBasic {
		req.SetBasicAuth(url.QueryEscape(r.ClientID), url.QueryEscape(r.ClientSecret))
	}
	if r.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	return req, nil
}
