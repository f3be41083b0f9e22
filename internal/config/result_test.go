package config

import (
	"maps"
	"strings"
	"testing"
)

// TestConnectResultSecret: the result secret comes from the default
// variable, a named one or nowhere (derived from the vault), and a short
// one is refused without showing it.
func TestConnectResultSecret(t *testing.T) {
	long := strings.Repeat("s", 32)
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       string
		wantErr    string
	}{
		{"unset", "", nil, "", ""},
		{"default variable", "", map[string]string{DefaultResultSecretEnv: long}, long, ""},
		{"named variable", "connect:\n  result_secret_env: MY_RESULT\n", map[string]string{"MY_RESULT": long}, long, ""},
		{"named variable empty", "connect:\n  result_secret_env: MY_RESULT\n", nil, "", "environment variable MY_RESULT is empty"},
		{"too short", "", map[string]string{DefaultResultSecretEnv: "short-canary"}, "", "connect.result_secret: is 12 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := baseEnv(t)
			maps.Copy(e, tc.env)
			c, err := Load(writeConfig(t, goodYAML+tc.yaml), env(e))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "short-canary") {
					t.Fatalf("Load = %v, want an error with %q and no secret", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Connect.ResultSecret.Reveal(); got != tc.want {
				t.Errorf("ResultSecret = %q, want %q", got, tc.want)
			}
		})
	}
}
