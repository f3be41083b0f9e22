package pax8

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Token endpoint defaults, from Pax8's authentication API (createAccessToken).
const (
	// DefaultTokenURL is Pax8's documented client-credentials token endpoint.
	DefaultTokenURL = "https://api.pax8.com/v1/token"
	// DefaultAudience is the audience of the partner API.
	DefaultAudience = "https://api.pax8.com"
)

// expiryDelta is how long before its expiry a cached token is replaced.
const expiryDelta = time.Minute

// Credentials are a partner's API credentials (Pax8's "client id" and
// "client secret"). Use [Credentials.Client] for an [http.Client] to give to
// [NewClient], or [Credentials.TokenSource] for the tokens themselves.
//
// Pax8's token endpoint accepts only a JSON body, which
// golang.org/x/oauth2/clientcredentials does not send (it posts a form); use
// this instead.
type Credentials struct {
	ClientID     string
	ClientSecret string
	// Audience defaults to [DefaultAudience]; Pax8 also documents
	// "api://p8p.client", "api://provisioning" and "api://usage".
	Audience string
	// TokenURL defaults to [DefaultTokenURL]; set it for a sandbox.
	TokenURL string
}

// TokenSource returns a token source that fetches tokens with hc (nil means
// [http.DefaultClient]), caches each until a minute before it expires, and
// lets only one fetch run at a time: concurrent callers wait for it.
func (c Credentials) TokenSource(hc *http.Client) *TokenSource {
	if hc == nil {
		hc = http.DefaultClient
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.TokenURL == "" {
		c.TokenURL = DefaultTokenURL
	}
	return &TokenSource{cred: c, hc: hc, now: time.Now}
}

// Client returns an [http.Client] that adds a bearer token from
// c.TokenSource(hc) to each request, sending it through hc's transport.
// Give it to [NewClient]. When no token can be had the request fails with a
// [*TokenError], which the [Client] does not retry.
func (c Credentials) Client(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out := *hc
	out.Transport = &bearerTransport{ts: c.TokenSource(hc), base: base}
	return &out
}

// TokenSource fetches and caches access tokens for [Credentials]. It
// implements golang.org/x/oauth2's TokenSource, so oauth2.NewClient can use
// it too. It is safe for concurrent use.
type TokenSource struct {
	cred Credentials
	hc   *http.Client
	now  func() time.Time

	mu     sync.Mutex
	tok    *oauth2.Token
	flight chan struct{} // closed when the running fetch ends; nil if none
	err    error         // the result of the last fetch, for its waiters
}

// Token returns a valid token, fetching one if needed. It implements
// oauth2.TokenSource; prefer [TokenSource.TokenContext].
func (s *TokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext returns a cached token that is valid for at least another
// minute, or fetches a new one. Only one fetch runs at a time; callers that
// arrive during it wait for its result (or for ctx). A failed fetch is not
// cached: the next call tries again. Errors are [*TokenError]s.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	for {
		s.mu.Lock()
		if s.tok != nil && s.now().Add(expiryDelta).Before(s.tok.Expiry) {
			tok := s.tok
			s.mu.Unlock()
			return tok, nil
		}
		if ch := s.flight; ch != nil {
			s.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, &TokenError{Err: ctx.Err()}
			}
			s.mu.Lock()
			err := s.err
			s.mu.Unlock()
			if err != nil {
				return nil, err
			}
			continue
		}
		ch := make(chan struct{})
		s.flight = ch
		s.mu.Unlock()

		tok, err := s.fetch(ctx)
		s.mu.Lock()
		s.flight, s.err = nil, err
		if err == nil {
			s.tok = tok
		}
		s.mu.Unlock()
		close(ch)
		return tok, err
	}
}

// fetch posts the documented JSON body to the token endpoint.
func (s *TokenSource) fetch(ctx context.Context) (*oauth2.Token, error) {
	body, err := json.Marshal(map[string]string{
		"client_id":     s.cred.ClientID,
		"client_secret": s.cred.ClientSecret,
		"audience":      s.cred.Audience,
		"grant_type":    "client_credentials",
	})
	if err != nil {
		return nil, &TokenError{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cred.TokenURL, bytes.NewReader(body))
	if err != nil {
		return nil, &TokenError{Err: fmt.Errorf("build token request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, &TokenError{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &TokenError{Status: resp.StatusCode, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &TokenError{Status: resp.StatusCode}
		var w struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Message     string `json:"message"`
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/html" && json.Unmarshal(raw, &w) == nil {
			e.Code, e.Description = w.Error, redact(cmpOr(w.Description, w.Message))
		}
		return nil, e
	}
	var w struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &w); err != nil || w.AccessToken == "" {
		return nil, &TokenError{Status: resp.StatusCode, Err: errors.New("the token response has no access_token")}
	}
	var exp Number
	if len(w.ExpiresIn) > 0 {
		if err := exp.UnmarshalJSON(w.ExpiresIn); err != nil {
			return nil, &TokenError{Status: resp.StatusCode, Err: errors.New("the token response has a malformed expires_in")}
		}
	}
	tok := &oauth2.Token{AccessToken: w.AccessToken, TokenType: cmpOr(w.TokenType, "Bearer")}
	if exp > 0 {
		tok.Expiry = s.now().Add(time.Duration(exp) * time.Second)
	} else {
		tok.Expiry = s.now().Add(expiryDelta + time.Second) // no lifetime given: use it once
	}
	return tok, nil
}

// TokenError is a failure to obtain an access token: the token endpoint
// refused the credentials (Status 401 or 403), answered something else
// outside 2xx, or could not be reached (Err). It never contains the client
// secret or a token. It matches [ErrUnauthorized] and [ErrForbidden] by
// status with errors.Is.
type TokenError struct {
	// Status is the token endpoint's HTTP status; 0 if it did not answer.
	Status int
	// Code and Description are the OAuth error and error_description.
	Code, Description string
	// Err is the transport or decoding error, if any.
	Err error
}

// Error implements the error interface.
func (e *TokenError) Error() string {
	var b strings.Builder
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Code == "access_denied" || e.Code == "invalid_client":
		fmt.Fprintf(&b, "pax8: the token endpoint refused the client credentials (%d", e.Status)
	case e.Status != 0:
		fmt.Fprintf(&b, "pax8: the token endpoint answered %d (", e.Status)
		b.WriteString(http.StatusText(e.Status))
	default:
		b.WriteString("pax8: no access token (")
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap returns the underlying error.
func (e *TokenError) Unwrap() error { return e.Err }

// Is matches [ErrUnauthorized] and [ErrForbidden] by status.
func (e *TokenError) Is(target error) bool {
	return (e.Status == http.StatusUnauthorized && target == ErrUnauthorized) ||
		(e.Status == http.StatusForbidden && target == ErrForbidden)
}

// bearerTransport adds the token to each request.
type bearerTransport struct {
	ts   *TokenSource
	base http.RoundTripper
}

func (t *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tok, err := t.ts.TokenContext(r.Context())
	if err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return t.base.RoundTrip(r2)
}
