package partner

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// ErrRefused is returned by [Login] when the sandbox refuses the login
// (wrong password, vendor account) or shows an error page instead of the
// next form.
var ErrRefused = errors.New("sandbox refused the login")

// Login plays the partner: it GETs authorizeURL, fills in the login form,
// posts it, then allows or denies on the consent page. It returns the
// redirect Location (the client's redirect_uri with code and state, or with
// an error) without following it. An authorization request the sandbox
// rejects with a redirect (missing audience, say) returns that Location at
// once.
//
// The client's cookie jar and transport are used; Login never follows a
// redirect itself, whatever client.CheckRedirect says.
func Login(ctx context.Context, client *http.Client, authorizeURL, username, password string, allow bool) (*url.URL, error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	page, loc, err := fetch(ctx, &c, http.MethodGet, authorizeURL, nil)
	if err != nil || loc != nil {
		return loc, err
	}
	f, err := findForm(page, "login")
	if err != nil {
		return nil, err
	}
	f.fields.Set("username", username)
	f.fields.Set("password", password)
	f.fields.Set("action", "login")
	page, loc, err = fetch(ctx, &c, http.MethodPost, resolve(page.url, f.action), f.fields)
	if err != nil || loc != nil {
		return loc, err
	}
	f, err = findForm(page, "consent")
	if err != nil {
		return nil, err
	}
	decision := "deny"
	if allow {
		decision = "allow"
	}
	f.fields.Set("decision", decision)
	page, loc, err = fetch(ctx, &c, http.MethodPost, resolve(page.url, f.action), f.fields)
	if err != nil {
		return nil, err
	}
	if loc == nil {
		return nil, fmt.Errorf("%w: consent answered %d without a redirect: %s", ErrRefused, page.status, page.message())
	}
	return loc, nil
}

type htmlPage struct {
	url    *url.URL
	status int
	body   string
}

var (
	messageRE    = regexp.MustCompile(`(?s)<p class="error" id="(?:error|message)">(.*?)</p>`)
	loginFormRE  = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	loginInputRE = regexp.MustCompile(`<input\b[^>]*>`)
	loginAttrRE  = regexp.MustCompile(`([a-zA-Z_-]+)="([^"]*)"`)
)

// message returns the error text shown on the page, if any.
func (p htmlPage) message() string {
	if m := messageRE.FindStringSubmatch(p.body); m != nil {
		return html.UnescapeString(strings.TrimSpace(m[1]))
	}
	return http.StatusText(p.status)
}

type form struct {
	action string
	fields url.Values
}

func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range loginAttrRE.FindAllStringSubmatch(tag, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// findForm returns the form with the given id and its hidden fields.
func findForm(p htmlPage, id string) (form, error) {
	for _, m := range loginFormRE.FindAllStringSubmatch(p.body, -1) {
		a := attrs(m[1])
		if a["id"] != id {
			continue
		}
		f := form{action: a["action"], fields: url.Values{}}
		for _, in := range loginInputRE.FindAllString(m[2], -1) {
			ia := attrs(in)
			if ia["type"] == "hidden" {
				f.fields.Set(ia["name"], ia["value"])
			}
		}
		return f, nil
	}
	return form{}, fmt.Errorf("%w: no %s form (status %d): %s", ErrRefused, id, p.status, p.message())
}

func resolve(base *url.URL, ref string) string {
	u, err := base.Parse(ref)
	if err != nil {
		return ref
	}
	return u.String()
}

// fetch performs one request. It returns the redirect Location for a 3xx,
// else the page.
func fetch(ctx context.Context, c *http.Client, method, target string, form url.Values) (htmlPage, *url.URL, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return htmlPage{}, nil, fmt.Errorf("sandbox login: %w", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return htmlPage{}, nil, fmt.Errorf("sandbox login: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return htmlPage{}, nil, fmt.Errorf("sandbox login: read %s: %w", req.URL.Path, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := resp.Location()
		if err != nil {
			return htmlPage{}, nil, fmt.Errorf("sandbox login: redirect without location: %w", err)
		}
		return htmlPage{}, loc, nil
	}
	p := htmlPage{url: req.URL, status: resp.StatusCode, body: string(b)}
	if resp.StatusCode != http.StatusOK {
		return p, nil, fmt.Errorf("%w: %s %s answered %d: %s", ErrRefused, method, req.URL.Path, resp.StatusCode, p.message())
	}
	return p, nil, nil
}
