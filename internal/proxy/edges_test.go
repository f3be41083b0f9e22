package proxy_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/proxy"
	"github.com/grantd/grantd/internal/testenv"
)

// TestProxyMetricsLabelledByRoute (issue 7 §8): proxied requests count in
// the API's request metrics under the proxy's route pattern, not as
// "unmatched", and never under a connection id or path.
func TestProxyMetricsLabelledByRoute(t *testing.T) {
	e := newEnv(t, testenv.Options{}, proxy.Options{})
	e.get("companies")
	e.get("companies?page=1")
	e.do("GET", proxy.Prefix+e.conn.ID+"/%2e%2e/x", nil, nil)
	got := map[string]float64{}
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "grantd_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			got[l["route"]+" "+l["status"]] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{proxy.Route + " 200": 2, proxy.Route + " 400": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grantd_http_requests_total (-want +got):\n%s", diff)
	}
}

// TestProxiedResponseOneNosniff (issue 7 §8): a proxied response carries
// exactly one X-Content-Type-Options: nosniff, whether the upstream sent
// one, none or another value, and so does the proxy's own error.
func TestProxiedResponseOneNosniff(t *testing.T) {
	for name, upstream := range map[string][]string{"none": nil, "nosniff": {"nosniff"}, "other": {"sniff", "nosniff"}} {
		t.Run(name, func(t *testing.T) {
			up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				for _, v := range upstream {
					w.Header().Add("X-Content-Type-Options", v)
				}
				w.Write([]byte(`{"ok":true}`))
			})
			e := newEnv(t, testenv.Options{APIBaseURL: up.URL + "/v1"}, proxy.Options{})
			got := e.get("anything")
			if v := got.header.Values("X-Content-Type-Options"); got.status != 200 || len(v) != 1 || v[0] != "nosniff" {
				t.Errorf("GET = %d with X-Content-Type-Options %q, want 200 with one nosniff", got.status, v)
			}
			bad := e.do("GET", proxy.Prefix+e.conn.ID+"/a%00b", nil, nil)
			if v := bad.header.Values("X-Content-Type-Options"); bad.status != 400 || len(v) != 1 || v[0] != "nosniff" {
				t.Errorf("refused path = %d with X-Content-Type-Options %q, want 400 with one nosniff", bad.status, v)
			}
		})
	}
}
