package api_test

import (
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIValid lints the OpenAPI document with kin-openapi's loader
// and validator (OpenAPI 3.1): every $ref resolves, every schema is well
// formed, and no object carries a member the specification does not define
// (a description with an unquoted comma in a YAML flow mapping becomes
// such a junk member). It is the linter CI runs: go test runs it.
func TestOpenAPIValid(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Errorf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
}
