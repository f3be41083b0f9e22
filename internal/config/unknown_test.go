package config

import (
	"strings"
	"testing"
)

// TestUnknownFieldErrors: an unknown field is named by its YAML path with
// the nearest known field, and no Go type appears in the message.
func TestUnknownFieldErrors(t *testing.T) {
	src := `public_url: https://grantd.example.com
providers:
  - name: acme
    authorize_param:
      prompt: consent
    refresh_token:
      rotaton: always
integrations:
  - id: a
    provider: acme
    client_secrt_env: X
    zzzzzz: 1
`
	_, err := Parse([]byte(src))
	if err == nil {
		t.Fatal("Parse accepted unknown fields")
	}
	msg := err.Error()
	for _, want := range []string{
		"line 4: providers[0].authorize_param: unknown field (did you mean authorize_params?)",
		"line 7: providers[0].refresh_token.rotaton: unknown field (did you mean rotation?)",
		"line 11: integrations[0].client_secrt_env: unknown field (did you mean client_secret_env?)",
		"line 12: integrations[0].zzzzzz: unknown field",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, bad := range []string{"customYAML", "config.", "provider.", "not found in type", "zzzzzz: unknown field (did"} {
		if strings.Contains(msg, bad) {
			t.Errorf("error mentions %q:\n%s", bad, msg)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"audience", "audeince", 2}, {"resource", "resource", 0},
	} {
		if got := levenshtein(tc.a, tc.b); got != tc.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
