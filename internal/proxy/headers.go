package proxy

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/grantd/grantd/internal/httpapi"
)

// Methods are the request methods the proxy forwards, in the order of the
// Allow header it sends with a 405. CONNECT and TRACE (and anything
// unknown) are refused before any dial: CONNECT would ask a vendor's front
// end for a tunnel, and TRACE echoes the request, token included.
var Methods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// ForwardedHeaders is the allow-list of caller request headers sent
// upstream; every other header is dropped. It is what a REST client needs
// and nothing that could change who the caller is, how the request is
// routed, or which method runs:
//
//   - content negotiation: Accept, Accept-Charset, Accept-Encoding,
//     Accept-Language;
//   - the body: Content-Type, Content-Length, Content-Encoding,
//     Content-Language;
//   - caching and conditional requests: Cache-Control, If-Match,
//     If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range,
//     Range, Prefer (RFC 7240);
//   - request tracing and retries: Idempotency-Key, X-Request-Id,
//     X-Correlation-Id;
//   - User-Agent.
//
// Among what is dropped: the caller's Authorization (the connection's
// token replaces it, SEC-42), cookies, Forwarded, X-Forwarded-*, Via,
// X-Real-Ip, Client-Ip, True-Client-Ip, Cf-Connecting-Ip (SEC-53), method
// overrides (X-Http-Method-Override, X-Method-Override), path overrides
// (X-Original-Url, X-Rewrite-Url), Upgrade, Expect and every X-Grantd-*
// header.
var ForwardedHeaders = []string{
	"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
	"Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
	"Cache-Control", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range", "Prefer",
	"Idempotency-Key", "X-Request-Id", "X-Correlation-Id",
	"User-Agent",
}

var (
	methodAllowed = setOf(Methods, func(m string) string { return m })
	headerAllowed = setOf(ForwardedHeaders, textproto.CanonicalMIMEHeaderKey)
	allowHeader   = strings.Join(Methods, ", ")
)

func setOf(list []string, key func(string) string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[key(s)] = true
	}
	return m
}

// checkRequest refuses, before anything is dialled, a method the proxy
// does not forward (405, with Allow set on w) and a request for a protocol
// upgrade (WebSocket, h2c), which the proxy does not tunnel.
func checkRequest(w http.ResponseWriter, r *http.Request) error {
	if !methodAllowed[r.Method] {
		w.Header().Set("Allow", allowHeader)
		return &httpapi.Error{Status: http.StatusMethodNotAllowed, Code: httpapi.CodeMethodNotAllowed,
			Message: "the proxy forwards only " + allowHeader}
	}
	if _, ok := r.Header["Upgrade"]; ok || headerHasToken(r.Header, "Connection", "upgrade") {
		return &httpapi.Error{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest,
			Message: "protocol upgrades (Upgrade, WebSocket, h2c) are not proxied"}
	}
	return nil
}

// headerHasToken reports whether a comma-separated header names token,
// case-insensitively.
func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h[key] {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// filterHeaders deletes from h every header not in [ForwardedHeaders].
func filterHeaders(h http.Header) {
	for k := range h {
		if !headerAllowed[k] {
			delete(h, k)
		}
	}
}
