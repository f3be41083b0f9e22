package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
)

// connectAsPartner plays a partner's browser through a connect link: the
// connect page, its button, login and consent at the sandbox, and the
// callback back at grantd. step, when not nil, is told what happened.
func connectAsPartner(ctx context.Context, linkURL, publicURL string, partner sandbox.Account, step func(name, format string, args ...any)) error {
	if step == nil {
		step = func(string, string, ...any) {}
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	browser := &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	// The connect page, and the form behind its button.
	page, err := get(ctx, browser, linkURL)
	if err != nil {
		return fmt.Errorf("connect page: %w", err)
	}
	action, fields, button, err := postForm(page, linkURL)
	if err != nil {
		return fmt.Errorf("connect page: %w", err)
	}
	step("connect page", "GET: 200, button %q", button)

	// Pressing the button: grantd stores the session and sends the
	// browser to the provider.
	authorizeURL, err := submit(ctx, browser, action, fields, publicURL)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	au, _ := url.Parse(authorizeURL)
	q := au.Query()
	step("start", "POST: 303 to %s://%s%s (audience %s, PKCE %s, scopes %q)",
		au.Scheme, au.Host, au.Path, q.Get("audience"), q.Get("code_challenge_method"), q.Get("scope"))

	// The partner logs in and consents at the sandbox.
	callback, err := sandboxtest.Login(ctx, browser, authorizeURL, partner.Username, partner.Password, true)
	if err != nil {
		return fmt.Errorf("sandbox login: %w", err)
	}
	if e := callback.Query().Get("error"); e != "" {
		return fmt.Errorf("sandbox login: provider answered %s: %s", e, callback.Query().Get("error_description"))
	}
	step("partner login", "%s logged in and allowed access; redirected to %s", partner.Username, callback.Path)

	// Back at grantd: the callback exchanges the code.
	status, err := follow(ctx, browser, callback.String())
	if err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	step("callback", "GET: %s", status)
	return nil
}

// demoPartner is the first partner account of the sandbox.
func demoPartner() sandbox.Account {
	for _, acc := range sandbox.Accounts() {
		if acc.Kind == sandbox.KindPartner {
			return acc
		}
	}
	return sandbox.Account{}
}
