package web_test

import (
	"strings"
	"testing"
)

// TestStaticNoDirectoryListing (issue 7 §8): /static/ serves its files but
// never a listing of the embedded directory.
func TestStaticNoDirectoryListing(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]int{
		"/static/style.css": 200,
		"/static/":          404,
		"/static//":         307, // the mux cleans the path: to /static/, 404
		"/static/./":        307,
		"/static/%2e/":      404,
		"/static/nope.css":  404,
	} {
		p := get(t, browser(), "GET", e.srv.URL+path)
		if p.status != want {
			t.Errorf("GET %s = %d, want %d", path, p.status, want)
		}
		if strings.Contains(p.body, `<a href="style.css"`) || strings.Contains(p.body, "<pre>") {
			t.Errorf("GET %s lists the directory:\n%s", path, p.body)
		}
	}
}
