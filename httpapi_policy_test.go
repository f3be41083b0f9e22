package grantd_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// jsonEdgePackages are the packages whose routes answer JSON; their errors
// and bodies go through package httpapi.
var jsonEdgePackages = []string{"internal/api", "internal/action", "internal/orgmap", "internal/proxy"}

// jsonEdgeExceptions are calls allowed in one file, with the reason.
var jsonEdgeExceptions = map[string]string{
	// The mapping page is HTML for a browser; a template that fails to
	// render is answered in plain text, not in the API's JSON shape.
	"internal/orgmap/page.go http.Error": "HTML page",
	// The mapping page renders its own HTML error pages with their status.
	"internal/orgmap/page.go WriteHeader(variable)": "HTML page",
}

// successStatuses are the statuses a handler may write itself; any other
// http.Status constant passed to WriteHeader is an error response, which
// must be an error returned to the httpapi adapter.
var successStatuses = map[string]bool{
	"StatusOK": true, "StatusCreated": true, "StatusAccepted": true, "StatusNoContent": true,
	"StatusPartialContent": true, "StatusNotModified": true, "StatusFound": true, "StatusSeeOther": true,
	"StatusTemporaryRedirect": true, "StatusPermanentRedirect": true, "StatusMovedPermanently": true,
}

// TestJSONErrorsGoThroughHTTPAPI is the rule of STYLE 7 made checkable:
// the API, actions, org mapping and proxy write no error response
// themselves (no http.Error, no WriteHeader but with a success constant,
// no hand-built {"error": …} body), use no error code but the registry's
// constants, and read and write no JSON with json.NewDecoder or
// json.NewEncoder, so every error has a registered code, the one shape and
// the one log line, and every body is decoded strictly.
func TestJSONErrorsGoThroughHTTPAPI(t *testing.T) {
	for _, dir := range jsonEdgePackages {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			checkJSONEdgeFile(t, f)
		}
	}
}

func checkJSONEdgeFile(t *testing.T, path string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	report := func(n ast.Node, what string) {
		if _, ok := jsonEdgeExceptions[filepath.ToSlash(path)+" "+what]; ok {
			return
		}
		t.Errorf("%s: %s; return an error to the httpapi adapter, or use httpapi.Decode/WriteJSON", fset.Position(n.Pos()), what)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok {
				switch x.Name + "." + sel.Sel.Name {
				case "http.Error", "json.NewEncoder", "json.NewDecoder":
					report(n, x.Name+"."+sel.Sel.Name)
				}
			}
			if sel.Sel.Name == "WriteHeader" && len(n.Args) == 1 {
				a, ok := n.Args[0].(*ast.SelectorExpr)
				if !ok {
					report(n, "WriteHeader(variable)")
					return true
				}
				if x, ok := a.X.(*ast.Ident); ok && x.Name == "http" && !successStatuses[a.Sel.Name] {
					report(n, "WriteHeader(http."+a.Sel.Name+")")
				}
			}
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Code" {
				if _, lit := n.Value.(*ast.BasicLit); lit {
					report(n, "an error code outside the registry (use an httpapi.Code constant)")
				}
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				if s, err := strconv.Unquote(n.Value); err == nil && strings.Contains(strings.ReplaceAll(s, " ", ""), `{"error":`) {
					report(n, "a hand-built error body")
				}
			}
		}
		return true
	})
}
