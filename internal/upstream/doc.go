// Package upstream holds the authenticated [Transport] that the proxy,
// the actions and the organisation mapping share towards provider APIs:
// it injects the connection's access token (from the broker, in the
// Authorization header only), sends it only to URLs under the provider's
// configured API base (SEC-40, SEC-42), follows no redirect, and on a 401
// forces one refresh and retries once, when the request body can be sent
// again. There is one implementation of the 401 rule.
//
// [NewBaseTransport] is the plain transport under it: bounded dial, TLS
// and response-header times, pools sized for a busy proxy.
package upstream
