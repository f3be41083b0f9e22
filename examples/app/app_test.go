package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/connectresult"
	"github.com/grantd/grantd/internal/demo"
	"github.com/grantd/grantd/internal/partner"
	"github.com/grantd/grantd/internal/sandbox"
)

// TestApp runs the application against a real grantd and the Pax8
// sandbox: a partner connects from the application's own page, the
// application trusts the signed result only once, lists its connections by
// tag and the partner's Pax8 companies through grantd's proxy; then the
// sandbox refuses the refresh token (invalid_grant), and the application
// answers with a ReAuthorize link, which the partner follows back to a
// reauthorized connection.
func TestApp(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	appURL := "http://" + srv.Listener.Addr().String()
	d, err := demo.Start(t.Context(), demo.Options{
		Listen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0", Logs: t.Output(),
		ReturnToAllow: []string{appURL + "/connected"},
	})
	if err != nil {
		t.Fatalf("demo.Start: %v", err)
	}
	defer d.Close()
	a, err := New(t.Context(), Config{GrantdURL: d.PublicURL, APIKey: d.APIKey, PublicURL: appURL, Tag: "example-app"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a
	srv.Start()
	defer srv.Close()
	ctx := t.Context()
	gd, err := grantd.NewClient(d.PublicURL, d.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	// A connection the application did not make: the tag listing leaves
	// it out.
	if _, err := d.RunHeadless(ctx); err != nil {
		t.Fatalf("RunHeadless: %v", err)
	}

	// The application's user u-1 connects Pax8.
	link := redirect(t, appURL+"/connect?user=u-1&email=u1@example-app.test")
	if !strings.HasPrefix(link, d.PublicURL+"/") {
		t.Fatalf("/connect sent the browser to %q, want grantd's connect page", link)
	}
	back := consent(t, d, link)
	if !strings.HasPrefix(back, appURL+"/connected?") {
		t.Fatalf("grantd sent the browser back to %q, want the application's /connected", back)
	}
	status, page := get(t, back)
	if status != http.StatusOK || page.Outcome != connectresult.Connected || page.ConnectionID == "" || page.EndUser != "u-1" {
		t.Fatalf("/connected = %d %+v; want connected for end user u-1", status, page)
	}
	id := page.ConnectionID
	if !slices.Equal(page.Connections, []string{id}) {
		t.Errorf("connections tagged example-app = %q, want only %s", page.Connections, id)
	}
	if all, err := gd.Connections(ctx, grantd.ListOptions{}); err != nil || len(all) != 2 {
		t.Errorf("the tenant's connections = %d, %v; want 2 (the tag listing must have left one out)", len(all), err)
	}
	// The companies the application read through the proxy are those
	// grantd's own action reads.
	var want struct {
		Content []struct{ Name string } `json:"content"`
	}
	if err := gd.RunAction(ctx, id, "pax8.list_companies", map[string]any{"size": 50}, &want); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range want.Content {
		names = append(names, c.Name)
	}
	if len(names) == 0 || !slices.Equal(page.Companies, names) {
		t.Errorf("companies through the proxy = %q, want %q", page.Companies, names)
	}

	// The same result again is a replay; a changed one is not signed.
	if status, _ := get(t, back); status != http.StatusBadRequest {
		t.Errorf("the same result twice = %d, want 400", status)
	}
	forged := strings.Replace(back, "connection_id="+id, "connection_id=conn_other", 1)
	if status, _ := get(t, forged); forged == back || status != http.StatusBadRequest {
		t.Errorf("a result with another connection_id = %d, want 400", status)
	}
	if status, _ := get(t, appURL+"/connected?outcome=connected&connection_id="+id); status != http.StatusBadRequest {
		t.Errorf("an unsigned result = %d, want 400", status)
	}

	// Pax8 refuses the refresh token: the connection needs the partner.
	if err := d.Sandbox.AddFault(sandbox.Fault{Kind: "invalid_grant", Endpoint: "token", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	if _, err := gd.Refresh(ctx, id, ""); !grantd.IsNeedsReauth(err) {
		t.Fatalf("forced refresh refused by the sandbox = %v, want needs_reauth", err)
	}
	status, page = get(t, appURL+"/companies?connection="+url.QueryEscape(id))
	if status != http.StatusConflict || !strings.HasPrefix(page.ReauthorizeURL, d.PublicURL+"/") || len(page.Companies) != 0 {
		t.Fatalf("/companies of a needs_reauth connection = %d %+v; want 409 with a ReAuthorize link", status, page)
	}

	// The partner follows the ReAuthorize link and comes back reauthorized.
	back = consent(t, d, page.ReauthorizeURL)
	status, page = get(t, back)
	if status != http.StatusOK || page.Outcome != connectresult.Reauthorized || page.ConnectionID != id || !slices.Equal(page.Companies, names) {
		t.Errorf("/connected after reauthorizing = %d %+v; want reauthorized %s with its companies", status, page, id)
	}
	if conn, err := gd.Connection(ctx, id); err != nil || conn.Status != grantd.StatusActive {
		t.Errorf("connection after reauthorizing = %+v, %v; want active", conn, err)
	}
}

// TestImportsOnlyPublicPackages: the application is what a customer
// writes, so it imports grantd's public packages and the standard library,
// and depends on nothing they do not bring along.
func TestImportsOnlyPublicPackages(t *testing.T) {
	public := []string{
		"github.com/grantd/grantd/client",
		"github.com/grantd/grantd/connectresult",
		"github.com/grantd/grantd/pax8",
	}
	goList := func(args ...string) []string {
		t.Helper()
		out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
		if err != nil {
			t.Fatalf("go list %q: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	imports := goList("-f", `{{join .Imports " "}}`, ".")
	for _, p := range imports {
		if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") && !slices.Contains(public, p) {
			t.Errorf("examples/app imports %s; it may import only %q and the standard library", p, public)
		}
	}
	if !slices.Contains(imports, public[0]) {
		t.Fatalf("go list found imports %q without the client; the check proves nothing", imports)
	}
	nonStd := `{{if not .Standard}}{{.ImportPath}}{{end}}`
	theirs := goList(append([]string{"-deps", "-f", nonStd}, public...)...)
	for _, p := range goList("-deps", "-f", nonStd, ".") {
		if p != "github.com/grantd/grantd/examples/app" && !slices.Contains(theirs, p) {
			t.Errorf("examples/app depends on %s, which the public packages do not bring", p)
		}
	}
}

// browser does not follow redirects, so that each hop can be checked.
var browser = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// redirect GETs target and returns where it redirects.
func redirect(t *testing.T, target string) string {
	t.Helper()
	resp, err := browser.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET %s = %s, want 303", target, resp.Status)
	}
	return resp.Header.Get("Location")
}

// consent plays the partner on a connect link (connect page, sandbox login
// and consent, grantd's callback) and returns where grantd's callback
// sends the browser.
func consent(t *testing.T, d *demo.Demo, link string) string {
	t.Helper()
	var back string
	step := func(name, format string, args ...any) {
		if name != "callback" || len(args) == 0 {
			return
		}
		if s, ok := args[0].(string); ok {
			back, _ = strings.CutPrefix(s, "303 to ")
		}
	}
	if err := partner.Connect(t.Context(), link, d.PublicURL, d.Partner, step); err != nil {
		t.Fatalf("partner.Connect: %v", err)
	}
	if back == "" {
		t.Fatal("grantd's callback did not redirect back to the application")
	}
	return back
}

// get GETs one of the application's pages.
func get(t *testing.T, target string) (int, Page) {
	t.Helper()
	resp, err := browser.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p Page
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("GET %s: %s, body not JSON: %v", target, resp.Status, err)
	}
	return resp.StatusCode, p
}
