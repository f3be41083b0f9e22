package grantd_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goPackages returns every directory of the module holding non-test Go
// files, skipping nested modules and testdata.
func goPackages(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "tools" || d.Name() == "bin") {
				return filepath.SkipDir
			}
			if m, _ := filepath.Glob(filepath.Join(path, "*.go")); len(m) > 0 {
				for _, f := range m {
					if !strings.HasSuffix(f, "_test.go") {
						dirs = append(dirs, path)
						break
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestPackageDocs enforces STYLE rule 2: every package has a doc.go whose
// package comment starts "Package <name>" (or "Command grantd" for main).
func TestPackageDocs(t *testing.T) {
	for _, dir := range goPackages(t) {
		doc := filepath.Join(dir, "doc.go")
		f, err := parser.ParseFile(token.NewFileSet(), doc, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Errorf("%s: no doc.go (%v)", dir, err)
			continue
		}
		want := "Package " + f.Name.Name + " "
		if f.Name.Name == "main" {
			want = "Command "
		}
		if f.Doc == nil || !strings.HasPrefix(f.Doc.Text(), want) {
			t.Errorf("%s: package comment should start %q", doc, want)
		}
	}
}

// TestDependencyPolicy is a deny-list in the style of tailscale's deptest:
// no assertion or mocking libraries (STYLE rule 11), and pkg/util-style
// package names (rule 2).
func TestDependencyPolicy(t *testing.T) {
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, banned := range []string{"github.com/stretchr/testify", "github.com/golang/mock", "go.uber.org/mock", "github.com/spf13/cobra"} {
		if strings.Contains(string(gomod), banned) {
			t.Errorf("go.mod requires %s, which the style guide rules out", banned)
		}
	}
	for _, dir := range goPackages(t) {
		switch filepath.Base(dir) {
		case "util", "utils", "common", "helpers", "models", "pkg":
			t.Errorf("%s: package name says nothing about what it provides", dir)
		}
	}
}

// TestNoForbiddenGrants is SEC-37 (no ROPC or implicit grant is ever built)
// and SEC-50 (no InsecureSkipVerify outside tests), checked statically over
// non-test sources.
func TestNoForbiddenGrants(t *testing.T) {
	forbidden := regexp.MustCompile(`grant_type=password|"password"\s*:\s*"grant_type"|response_type=token\b|InsecureSkipVerify:\s*true`)
	out, err := exec.Command("git", "ls-files", "*.go").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	for f := range strings.FieldsSeq(string(out)) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue // deleted in the work tree
		}
		if loc := forbidden.FindIndex(b); loc != nil {
			t.Errorf("%s: forbidden construct %q", f, b[loc[0]:loc[1]])
		}
	}
}
