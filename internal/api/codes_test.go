package api_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/grantd/grantd/internal/httpapi"
)

// TestOpenAPIErrorCodesMatchRegistry keeps the OpenAPI document's
// ErrorCode enum (and the list in its description) equal to httpapi's
// registry of codes, in the same order, so the document names every code a
// client can see and no other.
func TestOpenAPIErrorCodesMatchRegistry(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				ErrorCode struct {
					Description string   `yaml:"description"`
					Enum        []string `yaml:"enum"`
				} `yaml:"ErrorCode"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ec := doc.Components.Schemas.ErrorCode
	var want []string
	for _, c := range httpapi.Codes() {
		want = append(want, string(c.Code))
		var sts []string
		for _, s := range c.Statuses {
			sts = append(sts, strconv.Itoa(s))
		}
		line := fmt.Sprintf("- `%s` (%s): %s\n", c.Code, strings.Join(sts, ", "), c.Description)
		if !strings.Contains(ec.Description, line) {
			t.Errorf("ErrorCode's description lacks the line %q", line)
		}
	}
	if diff := cmp.Diff(want, ec.Enum); diff != "" {
		t.Errorf("openapi.yaml ErrorCode enum differs from httpapi.Codes() (-registry +openapi):\n%s", diff)
	}
}
