package grantd_test

import (
	"os/exec"
	"strings"
	"testing"
)

// binaryDeps returns what `go list -deps` says pkg links, for goos.
func binaryDeps(t *testing.T, pkg, goos string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg)
	cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s (GOOS=%s): %v", pkg, goos, err)
	}
	return strings.Fields(string(out))
}

// TestBinaryDeps is a dependency deny-list for the production binary in the
// style of tailscale's tstest/deptest: grantd must not link the testing
// package, httptest, or any of the module's test helpers (a package whose
// name ends in "test", such as internal/sandbox/sandboxtest or
// internal/store/storetest, or internal/testenv). Code the demo and the load
// harnesses share with tests lives in non-test packages (internal/partner).
func TestBinaryDeps(t *testing.T) {
	const module = "github.com/grantd/grantd/"
	deny := map[string]bool{
		"testing":                   true,
		"testing/synctest":          true,
		"testing/fstest":            true,
		"testing/iotest":            true,
		"testing/quick":             true,
		"net/http/httptest":         true,
		module + "internal/testenv": true,
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		deps := binaryDeps(t, "./cmd/grantd", goos)
		if len(deps) < 50 {
			t.Fatalf("GOOS=%s: go list -deps ./cmd/grantd listed %d packages; the check would prove nothing", goos, len(deps))
		}
		for _, d := range deps {
			own, ok := strings.CutPrefix(d, module)
			switch {
			case deny[d]:
				t.Errorf("GOOS=%s: ./cmd/grantd links %s", goos, d)
			case ok && (strings.HasSuffix(own, "test") || strings.Contains(own, "test/")):
				t.Errorf("GOOS=%s: ./cmd/grantd links the test helper %s", goos, d)
			}
		}
	}
}

// TestPublicClientDeps keeps the public client package free of the module's
// internals, so that its API cannot leak them and importing it pulls in
// nothing but the standard library.
func TestPublicClientDeps(t *testing.T) {
	for _, d := range binaryDeps(t, "./client", "linux") {
		first, _, _ := strings.Cut(d, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(d, "github.com/grantd/grantd/client") {
			t.Errorf("package client depends on %s; it must need only the standard library", d)
		}
		if d == "testing" || d == "net/http/httptest" {
			t.Errorf("package client links %s", d)
		}
	}
}
