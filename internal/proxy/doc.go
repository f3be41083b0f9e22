// Package proxy forwards a tenant's requests to a connection's provider API
// with the connection's access token, at /v1/proxy/{connection}/{path...}.
//
// Tokens are attached by [upstream.Transport], which actions and the
// organisation mapping share: it takes the bearer token from the broker,
// refuses any URL outside the provider's configured API base (SEC-40), and
// on a 401 forces one refresh and retries once. [Proxy], the reverse proxy
// handler, runs it under [httputil.ReverseProxy]. It refuses, before any
// dial, a path that could leave the API base (dot segments under any
// normalisation a server might apply: percent-decoding once or more,
// overlong UTF-8, NFKC and Unicode full stops, ";" parameters, trailing
// spaces; backslashes, "@", "//", CR, LF, NUL, absolute URLs), a method not
// in [Methods] (405) and a protocol upgrade; forwards only the request
// headers of [ForwardedHeaders]; follows no redirect (the 3xx goes back to
// the caller, SEC-41); drops Set-Cookie and authentication headers from
// responses (SEC-44); and streams bodies both ways under size limits. Its
// errors have the API's shape (package httpapi).
//
// A 401 is retried only when the request body can be sent again: requests
// without a body, and requests whose body is at most [Options.ReplayLimit]
// bytes, which the proxy buffers for that purpose. A larger body is streamed
// once and the 401 goes back to the caller. A 401 means the request was not
// processed, so replaying it is safe even for POST.
package proxy
