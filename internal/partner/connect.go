package partner

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/sandbox"
)

// Step is told what happened at each step of [Connect]: a short name and a
// printf-style description.
type Step func(name, format string, args ...any)

// Connect plays a partner's browser through a connect link: the
// connect page, its button, login and consent at the sandbox, and the
// callback back at grantd. step, when not nil, is told what happened.
func Connect(ctx context.Context, linkURL, publicURL string, partner sandbox.Account, step Step) error {
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
	callback, err := Login(ctx, browser, authorizeURL, partner.Username, partner.Password, true)
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

// Demo is the first partner account of the sandbox.
func Demo() sandbox.Account {
	for _, acc := range sandbox.Accounts() {
		if acc.Kind == sandbox.KindPartner {
			return acc
		}
	}
	return sandbox.Account{}
}

// get fetches a page and returns its body; any status but 200 is an error.
func get(ctx context.Context, c *http.Client, target string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", RedactLink(target), resp.Status)
	}
	return string(b), nil
}

var (
	formRE   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE  = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	buttonRE = regexp.MustCompile(`(?is)<button\b[^>]*>(.*?)</button>`)
	attrRE   = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*("([^"]*)"|'([^']*)')`)
	tagRE    = regexp.MustCompile(`(?s)<[^>]*>`)
)

func attributes(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[3] + a[4])
	}
	return m
}

// postForm finds the page's first POST form and returns its absolute
// action, its fields and its button's text.
func postForm(page, base string) (string, url.Values, string, error) {
	for _, f := range formRE.FindAllStringSubmatch(page, -1) {
		attrs := attributes(f[1])
		if !strings.EqualFold(attrs["method"], "post") {
			continue
		}
		fields := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(f[2], -1) {
			a := attributes(in[1])
			if a["name"] != "" {
				fields.Add(a["name"], a["value"])
			}
		}
		button := ""
		if m := buttonRE.FindStringSubmatch(f[2]); m != nil {
			button = strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(m[1], ""))), " ")
		}
		b, err := url.Parse(base)
		if err != nil {
			return "", nil, "", err
		}
		action, err := b.Parse(attrs["action"])
		if err != nil {
			return "", nil, "", fmt.Errorf("form action: %w", err)
		}
		return action.String(), fields, button, nil
	}
	return "", nil, "", errors.New("no form with method post on the page")
}

// submit posts a form as a same-origin browser would and returns the
// redirect it answers with.
func submit(ctx context.Context, c *http.Client, action string, fields url.Values, origin string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(fields.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return "", fmt.Errorf("POST %s: %s, want a redirect", RedactLink(action), resp.Status)
	}
	return loc, nil
}

// follow GETs the callback and reports where it ends: grantd answers with
// its success page or a redirect to the application.
func follow(ctx context.Context, c *http.Client, target string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusOK:
		title := ""
		if m := regexp.MustCompile(`(?is)<h1[^>]*>(.*?)</h1>`).FindStringSubmatch(string(b)); m != nil {
			title = strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(m[1], ""))), " ")
		}
		return fmt.Sprintf("200, %q", title), nil
	case resp.StatusCode/100 == 3:
		return fmt.Sprintf("%d to %s", resp.StatusCode, resp.Header.Get("Location")), nil
	}
	msg := strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(string(b), " "))), " ")
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return "", fmt.Errorf("%s: %s", resp.Status, msg)
}

// RedactLink hides the secret last segment of a connect link.
func RedactLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	if rest, ok := strings.CutPrefix(u.Path, "/connect/"); ok && rest != "" {
		tok, tail, _ := strings.Cut(rest, "/")
		if len(tok) > 6 {
			tok = tok[:6] + "…"
		}
		u.Path = "/connect/" + tok
		if tail != "" {
			u.Path += "/" + tail
		}
	}
	return u.Scheme + "://" + u.Host + u.Path
}
