package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/broker"
)

func TestClassify(t *testing.T) {
	secret := "rt-canary-secret"
	for _, tc := range []struct {
		err                   error
		wantStatus            int
		wantCode, wantMessage string
	}{
		{&broker.Error{Code: broker.CodeNotFound, Msg: "connection x not found"}, 404, "not_found", "connection x not found"},
		{&broker.Error{Code: broker.CodeNeedsReauth, Msg: "needs reauthorization"}, 409, "needs_reauth", "needs reauthorization"},
		{&broker.Error{Code: broker.CodeRevoked, Msg: "revoked"}, 410, "revoked", "revoked"},
		{&broker.Error{Code: broker.CodeLinkExpired, Msg: "expired"}, 410, "link_expired", "expired"},
		{&broker.Error{Code: broker.CodeInvalidReturnTo, Msg: "bad return_to"}, 400, "invalid_return_to", "bad return_to"},
		{&broker.Error{Code: broker.CodeUpstreamDown, Msg: "Pax8 said " + secret}, 503, "upstream_unavailable", genericMsg[503]},
		{&broker.Error{Code: broker.CodeUpstream, Msg: "Pax8 said " + secret}, 502, "upstream_error", genericMsg[502]},
		{&broker.Error{Code: broker.CodeInternal, Msg: "db " + secret}, 500, "internal", "internal error"},
		{fmt.Errorf("wrapped: %w", &broker.Error{Code: broker.CodeNotFound, Msg: "nf"}), 404, "not_found", "nf"},
		{errors.New("plain " + secret), 500, "internal", "internal error"},
		{&Error{Status: http.StatusTeapot, Code: "teapot", Message: "short and stout"}, 418, "teapot", "short and stout"},
	} {
		e := Classify(tc.err)
		status, code, msg := e.Status, string(e.Code), e.Message
		if status != tc.wantStatus || code != tc.wantCode || msg != tc.wantMessage {
			t.Errorf("classify(%v) = %d %q %q, want %d %q %q", tc.err, status, code, msg, tc.wantStatus, tc.wantCode, tc.wantMessage)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("classify(%v) leaks the cause into the message", tc.err)
		}
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       `"plain"`,
		`q"b\`:        `"q\"b\\"`,
		"nl\n\t\x01":  `"nl\n\t\u0001"`,
		"<a&b>":       `"\u003ca\u0026b\u003e"`,
		"é\u2028":     `"é\u2028"`,
		"bad\xffutf8": `"bad\ufffdutf8"`,
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestBrokerCodesRegistered: every broker code is in the registry with the
// status the API has always given it, so broker errors keep their wire
// form.
func TestBrokerCodesRegistered(t *testing.T) {
	for code, want := range map[broker.Code]int{
		broker.CodeNotFound:         http.StatusNotFound,
		broker.CodeInvalidRequest:   http.StatusBadRequest,
		broker.CodeInvalidReturnTo:  http.StatusBadRequest,
		broker.CodeLinkExpired:      http.StatusGone,
		broker.CodeInvalidState:     http.StatusBadRequest,
		broker.CodeStateExpired:     http.StatusBadRequest,
		broker.CodeBrowserMismatch:  http.StatusBadRequest,
		broker.CodeIssuerMismatch:   http.StatusBadRequest,
		broker.CodeAccessDenied:     http.StatusForbidden,
		broker.CodeAuthorizeError:   http.StatusBadGateway,
		broker.CodeTokenResponse:    http.StatusBadGateway,
		broker.CodeIDToken:          http.StatusBadGateway,
		broker.CodeNeedsReauth:      http.StatusConflict,
		broker.CodeRevoked:          http.StatusGone,
		broker.CodeUpstream:         http.StatusBadGateway,
		broker.CodeUpstreamDown:     http.StatusServiceUnavailable,
		broker.CodeUnsupportedGrant: http.StatusBadRequest,
		broker.CodeInternal:         http.StatusInternalServerError,
	} {
		c, ok := Lookup(Code(code))
		if !ok {
			t.Errorf("broker code %q is not registered", code)
			continue
		}
		if c.Status() != want {
			t.Errorf("broker code %q: status %d, want %d", code, c.Status(), want)
		}
	}
}
