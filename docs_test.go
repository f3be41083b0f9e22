package grantd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	// codePathRE finds repository paths written as code: `internal/x`,
	// `docs/y.md`, `seeds/000`.
	codePathRE = regexp.MustCompile("`((?:internal|cmd|docs|pax8|connectresult|tools|seeds|shared|testdata|migrations)/[^`\\s]*)`")
	// linkRE finds relative Markdown link targets.
	linkRE = regexp.MustCompile(`\]\(([^)\s#]+)(?:#[^)]*)?\)`)
)

// TestDocsReferToExistingFiles: README.md and docs/*.md name no file or
// directory of the repository that is not there, whether in code spans
// (relative to the repository root) or in relative links (relative to the
// document).
func TestDocsReferToExistingFiles(t *testing.T) {
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, "README.md")
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, m := range codePathRE.FindAllStringSubmatch(text, -1) {
			p := m[1]
			// A path with a placeholder or a pattern names no one file.
			if strings.ContainsAny(p, "<>{}*…") || strings.Contains(p, "NNN") {
				continue
			}
			p = strings.TrimSuffix(p, "/")
			if i := strings.LastIndex(p, ":"); i > 0 {
				p = p[:i] // file.go:123
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s names %s, which is not in the repository", doc, m[1])
			}
		}
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "/") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(doc), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", doc, target)
			}
		}
	}
}
