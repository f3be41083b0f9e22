package grantd

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// openAPI is the part of internal/api/openapi.yaml the tests read.
type openAPI struct {
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]yaml.Node `yaml:"properties"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

// operation is one route of the document.
type operation struct {
	id, method, path string
	re               *regexp.Regexp
	params           int
}

func loadOpenAPI(t *testing.T) (openAPI, []operation) {
	t.Helper()
	b, err := os.ReadFile("../internal/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	var ops []operation
	for path, methods := range doc.Paths {
		pat := regexp.QuoteMeta(path)
		pat = strings.ReplaceAll(pat, `\{path\}`, `.+`)
		pat = regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(pat, `[^/]+`)
		re := regexp.MustCompile("^" + pat + "$")
		for method, node := range methods {
			var op struct {
				OperationID string `yaml:"operationId"`
			}
			if method == "parameters" {
				continue
			}
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops = append(ops, operation{op.OperationID, strings.ToUpper(method), path, re, len(param.FindAllString(path, -1))})
		}
	}
	if len(ops) < 30 {
		t.Fatalf("openapi.yaml has %d operations; the test would prove nothing", len(ops))
	}
	return doc, ops
}

// clientCalls has one call of the client per operationId of the document.
var clientCalls = map[string]func(ctx context.Context, c *Client) error{
	"getIntegration": func(ctx context.Context, c *Client) error { _, err := c.Integration(ctx, "int_1"); return err },
	"updateIntegration": func(ctx context.Context, c *Client) error {
		_, err := c.UpdateIntegration(ctx, "int_1", IntegrationUpdate{})
		return err
	},
	"deleteIntegration": func(ctx context.Context, c *Client) error {
		_, err := c.DeleteIntegration(ctx, "int_1", true)
		return err
	},
	"listWebhookDeliveries": func(ctx context.Context, c *Client) error {
		_, err := c.WebhookDeliveries(ctx, DeliveryFilter{State: "failed"})
		return err
	},
	"redeliverWebhookDelivery": func(ctx context.Context, c *Client) error { _, err := c.Redeliver(ctx, "dlv_1"); return err },
	"getOpenAPI":               func(ctx context.Context, c *Client) error { _, err := c.OpenAPI(ctx); return err },
	"listProviders":            func(ctx context.Context, c *Client) error { _, err := c.Providers(ctx); return err },
	"createConnectSession": func(ctx context.Context, c *Client) error {
		_, err := c.CreateConnectSession(ctx, ConnectSessionRequest{Provider: "pax8"})
		return err
	},
	"listConnections": func(ctx context.Context, c *Client) error {
		_, err := c.Connections(ctx, ListOptions{Status: StatusNeedsReauth, Tag: "eu", EndUserID: "u1"})
		return err
	},
	"getConnectResultKey": func(ctx context.Context, c *Client) error { _, err := c.ConnectResultKey(ctx); return err },
	"createConnection": func(ctx context.Context, c *Client) error {
		_, err := c.CreateConnection(ctx, "int_1", nil)
		return err
	},
	"getConnection":    func(ctx context.Context, c *Client) error { _, err := c.Connection(ctx, "con_1"); return err },
	"deleteConnection": func(ctx context.Context, c *Client) error { _, err := c.Disconnect(ctx, "con_1"); return err },
	"getToken":         func(ctx context.Context, c *Client) error { _, err := c.Token(ctx, "con_1"); return err },
	"refreshConnection": func(ctx context.Context, c *Client) error {
		_, err := c.Refresh(ctx, "con_1", "seen")
		return err
	},
	"listEvents":       func(ctx context.Context, c *Client) error { _, err := c.Events(ctx, "con_1", 10); return err },
	"listIntegrations": func(ctx context.Context, c *Client) error { _, err := c.Integrations(ctx); return err },
	"createIntegration": func(ctx context.Context, c *Client) error {
		_, err := c.CreateIntegration(ctx, IntegrationRequest{Provider: "pax8", ClientID: "id", ClientSecret: "s"})
		return err
	},
	"listTenants":  func(ctx context.Context, c *Client) error { _, err := c.Tenants(ctx); return err },
	"createTenant": func(ctx context.Context, c *Client) error { _, _, err := c.CreateTenant(ctx, "acme"); return err },
	"deleteTenant": func(ctx context.Context, c *Client) error { _, err := c.DeleteTenant(ctx, "ten_1"); return err },
	"listKeys":     func(ctx context.Context, c *Client) error { _, err := c.Keys(ctx, "ten_1"); return err },
	"createKey": func(ctx context.Context, c *Client) error {
		_, _, err := c.CreateKey(ctx, "ten_1", KeyRequest{})
		return err
	},
	"revokeKey": func(ctx context.Context, c *Client) error { return c.RevokeKey(ctx, "ten_1", "key_1") },
	"listOrganizations": func(ctx context.Context, c *Client) error {
		_, err := c.Organizations(ctx)
		return err
	},
	"putOrganizations": func(ctx context.Context, c *Client) error { _, err := c.PutOrganizations(ctx, nil); return err },
	"getOrgMappings":   func(ctx context.Context, c *Client) error { _, err := c.OrgMappings(ctx, "con_1", true); return err },
	"putOrgMapping": func(ctx context.Context, c *Client) error {
		_, err := c.PutOrgMapping(ctx, "con_1", "cmp_1", "org_1")
		return err
	},
	"deleteOrgMapping": func(ctx context.Context, c *Client) error { return c.DeleteOrgMapping(ctx, "con_1", "cmp_1") },
	"putBilling": func(ctx context.Context, c *Client) error {
		_, err := c.PutBilling(ctx, "2026-11", "text/csv", strings.NewReader("org,product,quantity,unit_price\n"))
		return err
	},
	"postBilling": func(ctx context.Context, c *Client) error {
		_, err := c.UploadBilling(ctx, "2026-11", "text/csv", strings.NewReader("org,product,quantity,unit_price\n"))
		return err
	},
	"getBilling": func(ctx context.Context, c *Client) error { _, err := c.Billing(ctx, "2026-11"); return err },
	"listProductMappings": func(ctx context.Context, c *Client) error {
		_, err := c.ProductMappings(ctx, "con_1", "2026-11")
		return err
	},
	"putProductMapping": func(ctx context.Context, c *Client) error {
		_, err := c.PutProductMapping(ctx, "con_1", "key_1", "prd_1", "2026-11")
		return err
	},
	"deleteProductMapping": func(ctx context.Context, c *Client) error { return c.DeleteProductMapping(ctx, "con_1", "key_1") },
	"acceptProductMappingSuggestions": func(ctx context.Context, c *Client) error {
		_, err := c.AcceptProductMappingSuggestions(ctx, "con_1", "2026-11")
		return err
	},
	"getReconciliation": func(ctx context.Context, c *Client) error {
		_, err := c.Reconciliation(ctx, "con_1", "2026-11")
		return err
	},
	"getReconciliationReport": func(ctx context.Context, c *Client) error {
		_, err := c.ReconciliationReport(ctx, "con_1", "2026-11", "", "")
		return err
	},
	"acceptOrgMappingSuggestions": func(ctx context.Context, c *Client) error {
		_, err := c.AcceptOrgMappingSuggestions(ctx, "con_1", nil)
		return err
	},
	"createMappingLink": func(ctx context.Context, c *Client) error { _, err := c.CreateMappingLink(ctx, "con_1"); return err },
	"listActions":       func(ctx context.Context, c *Client) error { _, err := c.Actions(ctx); return err },
	"runAction": func(ctx context.Context, c *Client) error {
		return c.RunAction(ctx, "con_1", "pax8.list_companies", nil, nil)
	},
	"proxyGet":    proxyCall(http.MethodGet),
	"proxyPost":   proxyCall(http.MethodPost),
	"proxyPut":    proxyCall(http.MethodPut),
	"proxyPatch":  proxyCall(http.MethodPatch),
	"proxyDelete": proxyCall(http.MethodDelete),
}

func proxyCall(method string) func(ctx context.Context, c *Client) error {
	return func(ctx context.Context, c *Client) error {
		req, err := http.NewRequestWithContext(ctx, method, c.ProxyURL("con_1")+"/companies/c%2F1?page=0", nil)
		if err != nil {
			return err
		}
		resp, err := c.Proxy("con_1").Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
}

// TestClientCoversOpenAPI checks the client against the OpenAPI document:
// every operation has a client call, every call exists in the document,
// and each call sends the method and path of its own operation.
func TestClientCoversOpenAPI(t *testing.T) {
	_, ops := loadOpenAPI(t)
	var (
		mu  sync.Mutex
		got []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer gdk_test" {
			t.Errorf("%s %s: Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodDelete && !strings.HasPrefix(r.URL.Path, "/v1/tenants/ten_1") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.URL.Path == "/v1/connect-result-key" {
			w.Write([]byte(`{"key":"a2V5","algorithm":"HMAC-SHA256"}`))
			return
		}
		w.Write([]byte(`{"result":{}}`))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, "gdk_test")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, op := range ops {
		ids[op.id] = true
		call, ok := clientCalls[op.id]
		if !ok {
			t.Errorf("operation %s (%s %s) has no client method", op.id, op.method, op.path)
			continue
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		if err := call(t.Context(), c); err != nil {
			t.Errorf("%s: %v", op.id, err)
			continue
		}
		mu.Lock()
		sent := slices.Clone(got)
		mu.Unlock()
		if len(sent) != 1 {
			t.Errorf("%s sent %d requests (%q), want 1", op.id, len(sent), sent)
			continue
		}
		if match := route(ops, sent[0]); match != op.id {
			t.Errorf("%s sent %q, which is operation %q", op.id, sent[0], match)
		}
	}
	for id := range clientCalls {
		if !ids[id] {
			t.Errorf("client call %s is not an operation of openapi.yaml", id)
		}
	}
}

// route returns the operation a request line matches, the most specific
// (fewest path parameters) when several do.
func route(ops []operation, line string) string {
	method, path, _ := strings.Cut(line, " ")
	best, bestParams := "", 1<<30
	for _, op := range ops {
		if op.method == method && op.re.MatchString(path) && op.params < bestParams {
			best, bestParams = op.id, op.params
		}
	}
	return best
}

// TestWireTypesMatchSchemas checks that each wire struct has exactly the
// properties of its schema, by JSON name.
func TestWireTypesMatchSchemas(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	types := map[string]any{
		"Connection":            Connection{},
		"Token":                 Token{},
		"ConnectSession":        ConnectSession{},
		"ConnectSessionRequest": ConnectSessionRequest{},
		"Event":                 Event{},
		"Integration":           Integration{},
		"IntegrationRequest":    IntegrationRequest{},
		"Provider":              Provider{},
		"Tenant":                Tenant{},
		"APIKey":                APIKey{},
		"Organization":          Organization{},
		"OrgMapping":            OrgMapping{},
		"OrgMappingSuggestion":  OrgMappingSuggestion{},
		"OrgMappings":           OrgMappings{},
		"Action":                Action{},
		"ErrorDetail":           ErrorDetail{},
	}
	for name, v := range types {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s is not in openapi.yaml", name)
			continue
		}
		var want []string
		for p := range s.Properties {
			want = append(want, p)
		}
		slices.Sort(want)
		var got []string
		rt := reflect.TypeOf(v)
		for field := range rt.Fields() {
			tag, _, _ := strings.Cut(field.Tag.Get("json"), ",")
			if tag != "" && tag != "-" {
				got = append(got, tag)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s has JSON fields %q, schema has %q", rt.Name(), got, want)
		}
	}
}
