package oauthx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// FetchUserinfo calls the OIDC userinfo endpoint (OIDC Core §5.3) with
// accessToken as a bearer token and returns its claims. It refuses an answer
// whose sub differs from wantSub, the id_token's subject (§5.3.2, OIDC-17),
// and signed or encrypted (application/jwt) answers, which grantd does not
// request. A nil hc means a client with a 30 s timeout; redirects are not
// followed, so the token goes nowhere else.
func FetchUserinfo(ctx context.Context, hc *http.Client, url, accessToken, wantSub string) (map[string]any, error) {
	if wantSub == "" {
		return nil, errors.New("userinfo: no subject to compare with")
	}
	body, err := getJSON(ctx, hc, "userinfo", url, accessToken)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, errors.New("userinfo: answer is not a JSON object")
	}
	sub, _ := claims["sub"].(string)
	if sub != wantSub {
		return nil, fmt.Errorf("userinfo: sub %q does not match the id_token sub", sub)
	}
	return claims, nil
}

// getJSON GETs url, with bearer as the token when not empty, and returns the
// body of a 200 application/json answer of at most 1 MiB.
func getJSON(ctx context.Context, hc *http.Client, endpoint, url, bearer string) ([]byte, error) {
	if hc == nil {
		hc = defaultClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %w", endpoint, &StatusError{Endpoint: endpoint, Status: resp.StatusCode, ContentType: mediaType})
	}
	if mediaType != "application/json" {
		return nil, fmt.Errorf("%s endpoint answered %s, want application/json", endpoint, mediaType)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read answer: %w", endpoint, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%s: answer larger than 1 MiB", endpoint)
	}
	return body, nil
}
