// Package grantd is the Go client for grantd's HTTP API: an application
// creates connect links for its tenants, lists their connections and gets a
// valid access token for one whenever it calls the vendor, without ever
// holding a refresh token.
//
// The import path ends in client, so name the import:
//
//	import grantd "github.com/grantd/grantd/client"
//
//	c, err := grantd.NewClient("https://grantd.example.com", os.Getenv("GRANTD_API_KEY"))
//	tok, err := c.Token(ctx, connectionID)
//	if grantd.IsNeedsReauth(err) {
//		// send the tenant a ReAuthorize link: c.Reauthorize(ctx, connectionID, returnTo)
//	}
//
// examples/app in the repository is a whole application on the client:
// connect sessions labelled with end users and tags, signed results
// verified with package connectresult ([Client.ConnectResultKey]), Pax8
// through the proxy, and needs_reauth.
//
// Every route of the API (internal/api/openapi.yaml, also served at
// /v1/openapi.json) has a method; a test keeps the two equal. Errors the
// server answers are [*Error] values carrying the API's stable code, the
// HTTP status and Retry-After; [IsNeedsReauth], [IsRevoked], [IsNotFound]
// and [IsRateLimited] branch on them, and so does errors.Is with the
// sentinels [ErrNeedsReauth] and the like.
//
// [Client.Proxy] returns an *http.Client that sends requests through
// grantd's proxy with one connection's token, so that a vendor client built
// on an *http.Client works unchanged:
//
//	companies := pax8.NewClient(c.Proxy(connectionID)).Companies
//
// A Client is safe for concurrent use. It never logs, and its errors and
// String never contain the API key or a token.
//
// The package depends on the standard library only.
package grantd
