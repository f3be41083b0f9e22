package oauthx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/provider"
)

// RevokeRequest is one RFC 7009 token revocation request. It holds secrets:
// its String and LogValue print REDACTED.
type RevokeRequest struct {
	// RevocationURL is the revocation endpoint (RFC 7009 §2). It must be
	// http or https and carry no user information.
	RevocationURL string
	// Encoding is the body encoding; the zero value means form. Auth0
	// accepts both.
	Encoding provider.Encoding
	// ClientAuth is where the client credentials go, as for the token
	// endpoint (RFC 7009 §2.1); the zero value means body.
	ClientAuth provider.ClientAuth
	// ClientID is the client identifier.
	ClientID string
	// ClientSecret is the client secret.
	ClientSecret string
	// Token is the token to revoke, sent as token.
	Token string
	// TokenTypeHint is sent as token_type_hint when not empty
	// ("refresh_token", RFC 7009 §2.1).
	TokenTypeHint string
}

// String implements [fmt.Stringer] without revealing any secret.
func (RevokeRequest) String() string { return "REDACTED" }

// GoString implements [fmt.GoStringer] without revealing any secret.
func (RevokeRequest) GoString() string { return "oauthx.RevokeRequest{REDACTED}" }

// LogValue implements [slog.LogValuer]: the endpoint, dialect and hint,
// never the token or the secret.
func (r RevokeRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("revocation_url", r.RevocationURL),
		slog.String("encoding", string(r.request().encoding())),
		slog.String("client_auth", string(r.request().clientAuth())),
		slog.String("token_type_hint", r.TokenTypeHint),
	)
}

func (r RevokeRequest) request() Request {
	params := map[string]string{"token": r.Token}
	if r.TokenTypeHint != "" {
		params["token_type_hint"] = r.TokenTypeHint
	}
	return Request{
		TokenURL:     r.RevocationURL,
		Encoding:     r.Encoding,
		ClientAuth:   r.ClientAuth,
		ClientID:     r.ClientID,
		ClientSecret: r.ClientSecret,
		Params:       params,
	}
}

// Revoke asks the authorization server to revoke r.Token (RFC 7009 §2.1),
// with the same encoding, client authentication, redirect refusal and body
// limit as [Do]. A nil hc means a client with a 30 s timeout.
//
// A 2xx answer is success, whatever its body: RFC 7009 §2.2 answers 200 for
// an unknown or already invalid token too. Any other answer is a
// [*TokenError] carrying the RFC 6749 §5.2 fields when the body has them
// (unsupported_token_type, invalid_client); 429, 503 and other 5xx answers
// and network failures are [IsTransient] (RFC 7009 §2.2.1: 503 means try
// again later). No error includes the token, the secret or the body. Revoke
// never retries.
func Revoke(ctx context.Context, hc *http.Client, r RevokeRequest) error {
	if r.Token == "" {
		return errors.New("revocation request: missing token")
	}
	rq := r.request()
	req, err := rq.buildFor(ctx, "revocation")
	if err != nil {
		return err
	}
	status, contentType, _, body, err := send(hc, req)
	if err != nil {
		return err
	}
	if status >= 200 && status <= 299 {
		return nil
	}
	_, err = parseResponse(status, contentType, body, time.Time{}, rq.redactor())
	if err == nil {
		// Unreachable: parseResponse fails every non-2xx answer.
		err = &TokenError{Status: status, detail: "revocation refused"}
	}
	return err
}
