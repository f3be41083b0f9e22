package grantd_test

import (
	"testing"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/demo"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/pax8"
)

// TestAgainstGrantd drives the client against a real grantd and sandbox
// (package demo): the connection the scripted partner made, its token and
// events, and the Pax8 client through Client.Proxy, whose requests to the
// provider's API base (as GET /v1/providers reports it) go through grantd's
// proxy.
func TestAgainstGrantd(t *testing.T) {
	d, err := demo.Start(t.Context(), demo.Options{Listen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0", Logs: t.Output()})
	if err != nil {
		t.Fatalf("demo.Start: %v", err)
	}
	defer d.Close()
	r, err := d.RunHeadless(t.Context())
	if err != nil {
		t.Fatalf("RunHeadless: %v", err)
	}
	c, err := grantd.NewClient(d.PublicURL, d.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	conns, err := c.Connections(ctx, grantd.ListOptions{Status: grantd.StatusActive})
	if err != nil || len(conns) != 1 || conns[0].ID != r.Connection.ID || conns[0].IntegrationID != demo.IntegrationID {
		t.Fatalf("Connections(active) = %+v, %v; want the demo's connection", conns, err)
	}
	id := conns[0].ID
	if tok, err := c.Token(ctx, id); err != nil || tok.AccessToken == "" || tok.ConnectionID != id {
		t.Errorf("Token(%s) = %v, %v", id, tok, err)
	}
	if events, err := c.Events(ctx, id, 5); err != nil || len(events) == 0 || events[len(events)-1].Kind != "connected" {
		t.Errorf("Events(%s) = %+v, %v; want the connected event last", id, events, err)
	}
	if _, err := c.Token(ctx, "conn_missing"); !grantd.IsNotFound(err) {
		t.Errorf("Token(conn_missing) = %v, want not_found", err)
	}

	base := d.Sandbox.Endpoints(sandbox.Pax8).APIBaseURL
	p8 := pax8.NewClient(c.Proxy(id), pax8.WithBaseURL(base))
	page, err := p8.Companies.List(ctx, nil)
	if err != nil {
		t.Fatalf("pax8 Companies.List through Client.Proxy: %v", err)
	}
	if len(page.Content) == 0 || len(r.Companies) == 0 || page.Content[0].ID != r.Companies[0].ID {
		t.Errorf("Companies.List through the proxy = %d companies (first %+v), want the demo's first %+v", len(page.Content), page.Content, r.Companies[0])
	}

	other := pax8.NewClient(c.Proxy(id), pax8.WithBaseURL("http://127.0.0.1:1/v1"), pax8.WithMaxRetries(0))
	if _, err := other.Companies.List(ctx, nil); err == nil {
		t.Error("a Pax8 client aimed outside the provider's API base went through the proxy")
	}
}
