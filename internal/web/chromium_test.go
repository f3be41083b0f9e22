package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grantd/grantd/internal/testenv"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

// TestChromiumConnect drives the connect flow in a real browser: the page,
// "Integrate with Pax8", the sandbox's login and consent forms, and the
// success page, with the real cookies, CSP and cross-origin protection.
func TestChromiumConnect(t *testing.T) {
	bctx := testenv.Browser(t)
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.link(broker.LinkRequest{})),
		chromedp.WaitVisible(chromedp.ID("authorize")),
	)
	if err != nil {
		t.Fatalf("open connect page: %v", err)
	}
	label, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("authorize")))
	if err != nil || label != "Integrate with Pax8" {
		t.Fatalf("button = %q, %v; want Integrate with Pax8", label, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("authorize")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), partner),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`#login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("allow")),
		chromedp.Click(chromedp.ID("allow")),
		chromedp.WaitVisible(chromedp.ID("success")),
	)
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("flow: %v (at %s)", err, loc)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#success h1")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Connected to Pax8 as " + partner; heading != want {
		t.Errorf("success heading = %q, want %q", heading, want)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(loc, e.srv.URL+"/oauth/done?") {
		t.Errorf("landed on %s, want the success page", loc)
	}
	// A reload shows the same success page, not invalid_state.
	if _, err := chromedp.Run(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if again, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#success h1"))); err != nil || again != heading {
		t.Errorf("after reload: heading %q, %v; want %q", again, err, heading)
	}
	cs := e.connections()
	if len(cs) != 1 || cs[0].Status != store.StatusActive || cs[0].Email != partner {
		t.Errorf("connections = %+v, want one active connection for %s", cs, partner)
	}
}
