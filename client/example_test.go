package grantd_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/pax8"
)

// fakeGrantd answers a few routes as grantd would, for the examples: one
// active connection (con_active) whose provider is Pax8, one that needs
// reauthorization (con_stale), and the proxy standing in for Pax8.
func fakeGrantd() *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gdk_example" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"unauthorized","message":"no valid API key"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "GET /v1/connections/con_active/token":
			io.WriteString(w, `{"connection_id":"con_active","provider":"pax8","access_token":"at_1","token_type":"Bearer","expires_in":3600,"scopes":[]}`)
		case "GET /v1/connections/con_stale/token":
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"error":{"code":"needs_reauth","message":"the connection must be authorized again"}}`)
		case "POST /v1/connect-sessions":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"cs_1","url":"`+srv.URL+`/connect/abc","expires_at":"2030-01-01T00:00:00Z","integration_id":"pax8"}`)
		case "GET /v1/connections/con_stale":
			io.WriteString(w, `{"id":"con_stale","integration_id":"pax8","provider":"pax8","status":"needs_reauth","scopes":[],"version":3}`)
		case "GET /v1/connections/con_active":
			io.WriteString(w, `{"id":"con_active","provider":"pax8","status":"active","scopes":[],"version":1}`)
		case "GET /v1/providers":
			io.WriteString(w, `{"providers":[{"name":"pax8","display_name":"Pax8","grant":"authorization_code","scopes":[],"api_base_url":"https://api.pax8.com/v1"}]}`)
		case "GET /v1/proxy/con_active/companies":
			io.WriteString(w, `{"content":[{"id":"c1","name":"Contoso"}],"page":{"size":10,"totalElements":1,"totalPages":1,"number":0}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no such route"}}`)
		}
	}))
	return srv
}

func Example() {
	srv := fakeGrantd()
	defer srv.Close()
	ctx := context.Background()

	c, err := grantd.NewClient(srv.URL, "gdk_example")
	if err != nil {
		log.Fatal(err)
	}
	tok, err := c.Token(ctx, "con_active")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.ExpiresIn, tok) // a Token never prints its access token
	// Output: Bearer 3600 grantd.Token{con_active REDACTED}
}

// A connection that needs the tenant to consent again answers
// needs_reauth; the next step is a ReAuthorize link for the tenant.
func ExampleIsNeedsReauth() {
	srv := fakeGrantd()
	defer srv.Close()
	ctx := context.Background()

	c, _ := grantd.NewClient(srv.URL, "gdk_example")
	_, err := c.Token(ctx, "con_stale")
	if grantd.IsNeedsReauth(err) {
		link, err := c.Reauthorize(ctx, "con_stale", "")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("send the tenant to", strings.TrimPrefix(link.URL, srv.URL))
	}
	// Output: send the tenant to /connect/abc
}

// Client.Proxy plugs grantd into a vendor client: pax8.NewClient takes the
// *http.Client, and each request goes through grantd's proxy with the
// connection's token, which the application never sees.
func ExampleClient_Proxy() {
	srv := fakeGrantd()
	defer srv.Close()
	ctx := context.Background()

	c, _ := grantd.NewClient(srv.URL, "gdk_example")
	p8 := pax8.NewClient(c.Proxy("con_active"))
	page, err := p8.Companies.List(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, co := range page.Content {
		fmt.Println(co.ID, co.Name)
	}
	// Output: c1 Contoso
}
