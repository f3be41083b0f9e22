package pax8api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// fixedNow is the clock of most tests: mid-month, so generated data is
// anchored to 2026-03-01.
var fixedNow = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// apiBase is where the sandbox mounts the API; tests go through the same
// prefix stripping.
const apiBase = "/pax8-api/v1"

// testServer serves api on loopback behind a tiny middleware standing in for
// the sandbox's auth: the partner comes from the X-Test-Partner header
// ("partner-a" when absent, no partner at all when "-").
type testServer struct {
	t   *testing.T
	api *API
	srv *httptest.Server
}

func newTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	api := New(opts)
	inner := http.StripPrefix(apiBase, api)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		partner := r.Header.Get("X-Test-Partner")
		switch partner {
		case "-":
		case "":
			r = r.WithContext(WithPartner(r.Context(), "partner-a"))
		default:
			r = r.WithContext(WithPartner(r.Context(), partner))
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &testServer{t: t, api: api, srv: srv}
}

// do sends a request as partner and returns the status and body. A string
// body is sent verbatim; anything else is JSON-encoded.
func (s *testServer) do(partner, method, path string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.srv.URL+apiBase+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if partner != "" {
		req.Header.Set("X-Test-Partner", partner)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// get fetches path as the default partner, requires want, and decodes into T.
func get[T any](s *testServer, path string) T {
	s.t.Helper()
	return call[T](s, "", http.MethodGet, path, nil, http.StatusOK)
}

// call sends a request, requires the status, and decodes the body into T.
func call[T any](s *testServer, partner, method, path string, body any, wantStatus int) T {
	s.t.Helper()
	status, raw := s.do(partner, method, path, body)
	if status != wantStatus {
		s.t.Fatalf("%s %s = %d %s, want %d", method, path, status, raw, wantStatus)
	}
	var v T
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return v
}

// pax8Error is the error body as a client decodes it.
type pax8Error struct {
	Type     string `json:"type"`
	Message  string `json:"message"`
	Instance string `json:"instance"`
	Status   int    `json:"status"`
	Details  []struct {
		Message string `json:"message"`
	} `json:"details"`
}

// allPages walks a paged list with size 200 and returns every item.
func allPages[T any](s *testServer, path string) []T {
	s.t.Helper()
	var out []T
	sep := "?"
	if bytes.ContainsRune([]byte(path), '?') {
		sep = "&"
	}
	for page := 0; ; page++ {
		p := call[paged[T]](s, "", http.MethodGet, path+sep+"size=200&page="+strconv.Itoa(page), nil, http.StatusOK)
		out = append(out, p.Content...)
		if page+1 >= p.Page.TotalPages {
			return out
		}
	}
}
