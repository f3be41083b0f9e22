package partner

import "testing"

// TestRedactLink: a connect link's secret segment never reaches an error
// or a log whole.
func TestRedactLink(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:8080/connect/abcdefghijklmnop", "http://127.0.0.1:8080/connect/abcdef…"},
		{"http://127.0.0.1:8080/connect/abcdefghijklmnop/start?x=1", "http://127.0.0.1:8080/connect/abcdef…/start"},
		{"http://127.0.0.1:8080/connect/abc", "http://127.0.0.1:8080/connect/abc"},
		{"https://login.example/authorize?state=s", "https://login.example/authorize"},
		{"%zz", "(invalid URL)"},
	} {
		if got := RedactLink(tc.in); got != tc.want {
			t.Errorf("RedactLink(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
