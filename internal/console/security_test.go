package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grantd/grantd/internal/store"
)

// TestNoSessionGoesToSignIn: a page without a session, with a made-up
// cookie, or after the session expired redirects to the sign-in page, and
// a POST without one is refused (SEC-session).
func TestNoSessionGoesToSignIn(t *testing.T) {
	v := newEnv(t)
	hc := v.client()
	for _, path := range []string{"/console/", "/console/connections", "/console/connections/" + v.connA.ID} {
		resp, err := hc.Get(v.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
			t.Errorf("GET %s without a session = %d to %q, want 303 to /console/signin", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	u, _ := url.Parse(v.srv.URL + "/console/")
	hc.Jar.SetCookies(u, []*http.Cookie{{Name: "grantd_console", Value: strings.Repeat("A", 43)}})
	if resp, _ := hc.Get(v.srv.URL + "/console/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET with a made-up session cookie = %d, want 303", resp.StatusCode)
	}

	hc = v.client()
	csrf := v.signIn(hc, v.keyA)
	v.setNow(time.Now().Add(time.Hour + time.Second)) // SessionTTL is 1h
	resp, _ := hc.Get(v.srv.URL + "/console/")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET after the session expired = %d, want 303 to sign in", resp.StatusCode)
	}
	if resp := v.post(hc, "/console/connections/"+v.connA.ID+"/disconnect", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST after the session expired = %d, want 403", resp.StatusCode)
	}
	if _, err := v.st.GetConnection(t.Context(), v.connA.ID); err != nil {
		t.Errorf("the expired session's disconnect changed something: %v", err)
	}
}

// TestSignInRefusesBadKeys: a wrong key, another tenant's key shape and a
// sign-in form without its CSRF value create no session.
func TestSignInRefusesBadKeys(t *testing.T) {
	v := newEnv(t)
	hc := v.client()
	for _, key := range []string{"", "wrong", adminKey + "x", "gdk_" + strings.Repeat("x", 43)} {
		m := csrfRE.FindStringSubmatch(v.get(hc, "/console/signin", http.StatusOK))
		if resp := v.post(hc, "/console/signin", url.Values{"csrf": {m[1]}, "key": {key}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("sign in with %q = %d, want 401", key, resp.StatusCode)
		}
	}
	hc = v.client()
	v.get(hc, "/console/signin", http.StatusOK)
	if resp := v.post(hc, "/console/signin", url.Values{"key": {adminKey}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign in without the form's csrf value = %d, want 403", resp.StatusCode)
	}
	if resp, _ := hc.Get(v.srv.URL + "/console/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a refused sign-in left a session: GET /console/ = %d", resp.StatusCode)
	}
}

// TestTenantCannotSeeOtherTenant: tenant A's session gets the same 404 for
// tenant B's connection and integration as for an unknown id, the
// operator's pages are 404 too, and its actions on B's objects change
// nothing (SEC-43).
func TestTenantCannotSeeOtherTenant(t *testing.T) {
	v := newEnv(t)
	hc := v.client()
	csrf := v.signIn(hc, v.keyA)
	unknown := v.get(hc, "/console/connections/conn_unknown", http.StatusNotFound)
	other := v.get(hc, "/console/connections/"+v.connB.ID, http.StatusNotFound)
	if unknown != other {
		t.Errorf("another tenant's connection is told apart from an unknown id:\n%s\n---\n%s", other, unknown)
	}
	v.get(hc, "/console/integrations/"+v.e.Integration.ID, http.StatusNotFound) // the operator's
	v.get(hc, "/console/tenants", http.StatusNotFound)
	v.get(hc, "/console/webhooks", http.StatusNotFound)
	list := v.get(hc, "/console/connections?tenant="+v.tenB, http.StatusOK)
	if strings.Contains(list, v.connB.ID) {
		t.Errorf("tenant A's list shows tenant B's connection with ?tenant=")
	}
	for _, action := range []string{"refresh", "reauth", "disconnect"} {
		if resp := v.post(hc, "/console/connections/"+v.connB.ID+"/"+action, url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s on tenant B's connection = %d, want 404", action, resp.StatusCode)
		}
	}
	got, err := v.st.GetConnection(t.Context(), v.connB.ID)
	if err != nil || got.Version != v.connB.Version {
		t.Errorf("tenant B's connection after tenant A's posts: version %d, %v; want %d unchanged", got.Version, err, v.connB.Version)
	}
}

// TestFormWithoutCSRFIsRefused: each form posted without its token, or
// with another session's, gets 403 and changes nothing.
func TestFormWithoutCSRFIsRefused(t *testing.T) {
	v := newEnv(t)
	hc := v.client()
	v.signIn(hc, adminKey)
	otherCSRF := v.signIn(v.client(), adminKey)
	id := v.failedDelivery(t)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/console/connections/" + v.connA.ID + "/disconnect", url.Values{}},
		{"/console/connections/" + v.connA.ID + "/refresh", url.Values{"csrf": {otherCSRF}}},
		{"/console/integrations/" + v.e.Integration.ID, url.Values{"name": {"changed"}, "client_id": {"x"}}},
		{"/console/integrations/" + v.e.Integration.ID + "/delete", url.Values{"csrf": {""}}},
		{"/console/webhooks/" + id + "/redeliver", url.Values{"csrf": {"forged"}}},
		{"/console/signout", url.Values{}},
	}
	for _, p := range posts {
		if resp := v.post(hc, p.path, p.form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without a valid csrf token = %d, want 403", p.path, resp.StatusCode)
		}
	}
	c, err := v.st.GetConnection(t.Context(), v.connA.ID)
	if err != nil || c.Version != v.connA.Version {
		t.Errorf("connection after refused posts: version %d, %v; want %d", c.Version, err, v.connA.Version)
	}
	in, err := v.st.GetIntegration(t.Context(), v.e.Integration.ID)
	if err != nil || in.Name != v.e.Integration.Name {
		t.Errorf("integration after refused posts: %q, %v", in.Name, err)
	}
	if d, _ := v.st.GetDelivery(t.Context(), id); d.State != store.DeliveryFailed {
		t.Errorf("delivery after a refused redeliver: %s, want failed", d.State)
	}
	v.get(hc, "/console/", http.StatusOK) // still signed in
}

// TestSignOutEndsTheSession: after sign-out the old cookie no longer
// works, even replayed.
func TestSignOutEndsTheSession(t *testing.T) {
	v := newEnv(t)
	hc := v.client()
	csrf := v.signIn(hc, v.keyA)
	u, _ := url.Parse(v.srv.URL + "/console/")
	old := hc.Jar.Cookies(u)
	if resp := v.post(hc, "/console/signout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out = %d", resp.StatusCode)
	}
	replay := v.client()
	replay.Jar.SetCookies(u, old)
	if resp, _ := replay.Get(v.srv.URL + "/console/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the signed-out cookie still opens the console: %d", resp.StatusCode)
	}
}

// TestSessionCookieAndHeaders: the session cookie is HttpOnly and
// SameSite=Strict with no secret but a random id, and every page refuses
// framing, sniffing and inline script.
func TestSessionCookieAndHeaders(t *testing.T) {
	v := newEnv(t)
	hc := v.client()
	m := csrfRE.FindStringSubmatch(v.get(hc, "/console/signin", http.StatusOK))
	req, _ := http.NewRequest(http.MethodPost, v.srv.URL+"/console/signin", strings.NewReader(url.Values{"csrf": {m[1]}, "key": {v.keyA}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "grantd_console" {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || strings.Contains(sess.Value, v.keyA) || strings.Contains(sess.Value, v.tenA) {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, holding neither key nor tenant", sess)
	}
	for _, path := range []string{"/console/signin", "/console/", "/console/static/console.css"} {
		resp, err := hc.Get(v.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s headers: XFO %q, nosniff %q, CSP %q", path, h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"), csp)
		}
	}
}

// TestChromiumRefusesFraming loads the sign-in page in an iframe of a
// page on the same origin in Chromium, so the parent could read the
// frame's document if it loaded: it must not (X-Frame-Options DENY, CSP
// frame-ancestors 'none'). The same page opened directly has the form,
// so the check can fail.
func TestChromiumRefusesFraming(t *testing.T) {
	ctx := browse(t)
	v := newEnv(t)
	v.mux.HandleFunc("/framer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><iframe id="f" src="/console/signin"></iframe>`))
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(v.srv.URL+"/framer"), chromedp.Sleep(time.Second)); err != nil {
		t.Fatal(err)
	}
	const probe = `(function(){try{const d=document.getElementById("f").contentDocument;return d&&d.getElementById("key")?1:0}catch(e){return -1}})()`
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](probe)); err != nil || n == 1 {
		t.Errorf("the console rendered inside a frame: %d, %v", n, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(v.srv.URL+"/console/signin"), chromedp.WaitVisible(chromedp.ID("key"))); err != nil {
		t.Errorf("the sign-in page opened directly: %v", err)
	}
}

// TestNamesAreEscaped: a tenant and integration name with HTML show as
// text.
func TestNamesAreEscaped(t *testing.T) {
	v := newEnv(t)
	v.e.Tenant(t, `<script>alert(1)</script>`)
	if err := v.st.UpdateIntegration(t.Context(), v.e.Integration.ID, func(in store.Integration) (store.Integration, error) {
		in.Name = `<img src=x onerror=alert(2)>`
		return in, nil
	}); err != nil {
		t.Fatal(err)
	}
	hc := v.client()
	v.signIn(hc, adminKey)
	for _, path := range []string{"/console/tenants", "/console/integrations", "/console/connections"} {
		body := v.get(hc, path, http.StatusOK)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s renders a name as HTML", path)
		}
	}
	if body := v.get(hc, "/console/tenants", http.StatusOK); !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("/console/tenants does not show the escaped name")
	}
}

// TestDeleteIntegrationAndDisconnect: an integration in use cannot be
// deleted (409, nothing changes); once its connection is disconnected from
// the console, it can.
func TestDeleteIntegrationAndDisconnect(t *testing.T) {
	v := newEnv(t)
	hc := v.client()
	csrf := v.signIn(hc, adminKey)
	del := "/console/integrations/" + v.e.Integration.ID + "/delete"
	if resp := v.post(hc, del, url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("delete an integration in use = %d, want 409", resp.StatusCode)
	}
	if _, err := v.st.GetIntegration(t.Context(), v.e.Integration.ID); err != nil {
		t.Fatalf("the refused delete removed the integration: %v", err)
	}
	for _, c := range []store.Connection{v.connA, v.connB} {
		if resp := v.post(hc, "/console/connections/"+c.ID+"/disconnect", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disconnect %s = %d, want 303", c.ID, resp.StatusCode)
		}
		if _, err := v.st.GetConnection(t.Context(), c.ID); err == nil {
			t.Errorf("connection %s is still stored after Disconnect", c.ID)
		}
	}
	if resp := v.post(hc, del, url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("delete an unused integration = %d, want 303", resp.StatusCode)
	}
	if _, err := v.st.GetIntegration(t.Context(), v.e.Integration.ID); err == nil {
		t.Error("the integration is still stored after Delete")
	}
}
