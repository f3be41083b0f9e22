package broker

import "testing"

// TestOAuthErrorCode: an authorization response's error code is echoed
// only when RFC 6749 §4.1.2.1 or OIDC Core §3.1.2.6 defines it; anything
// else (unknown codes, case variants, padding, markup, a secret-looking
// value) becomes "unknown".
func TestOAuthErrorCode(t *testing.T) {
	for in, want := range map[string]string{
		"invalid_request":           "invalid_request",
		"unauthorized_client":       "unauthorized_client",
		"access_denied":             "access_denied",
		"unsupported_response_type": "unsupported_response_type",
		"invalid_scope":             "invalid_scope",
		"server_error":              "server_error",
		"temporarily_unavailable":   "temporarily_unavailable",
		"login_required":            "login_required",
		"consent_required":          "consent_required",
		"":                          "unknown",
		"ACCESS_DENIED":             "unknown",
		"access_denied ":            "unknown",
		" access_denied":            "unknown",
		"access_denied\n":           "unknown",
		"invalid_grant":             "unknown",
		"<script>alert(1)</script>": "unknown",
		"access_denied%00":          "unknown",
		"secret=s3cr3t":             "unknown",
	} {
		if got := oauthErrorCode(in); got != want {
			t.Errorf("oauthErrorCode(%q) = %q, want %q", in, got, want)
		}
	}
}
