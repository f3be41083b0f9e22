package pax8

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorded is what a fake server saw of one request.
type recorded struct {
	Method string
	Path   string // escaped, as sent on the wire
	Query  url.Values
	Body   string
	Header http.Header
}

// echoServer is a loopback Pax8 stand-in that records every request and
// answers each with the reply set by the test.
type echoServer struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	status int
	body   string
	header http.Header
}

func newEchoServer(t *testing.T) *echoServer {
	t.Helper()
	s := &echoServer{status: http.StatusOK, body: "{}"}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.Query(), string(b), r.Header.Clone()})
		status, body, header := s.status, s.body, s.header
		s.mu.Unlock()
		maps.Copy(w.Header(), header)
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *echoServer) reply(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func (s *echoServer) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func (s *echoServer) client(opts ...Option) *Client {
	opts = append([]Option{WithBaseURL(s.URL + "/v1"), WithRetryBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)
	return NewClient(s.Client(), opts...)
}

// pagingServer serves n generated subscriptions from /v1/subscriptions in
// Pax8's page envelope, honouring page and size (capped at 200 like Pax8),
// and counts requests and the peak number handled at once.
type pagingServer struct {
	*httptest.Server
	n        int
	delay    time.Duration
	requests atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64
	// failPage, when >= 0, answers that page with a 404.
	failPage int
	// cancelled counts handlers that saw their request cancelled.
	cancelled atomic.Int64
}

func newPagingServer(t testing.TB, n int, delay time.Duration) *pagingServer {
	s := &pagingServer{n: n, delay: delay, failPage: -1}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *pagingServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	cur := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		p := s.peak.Load()
		if cur <= p || s.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			s.cancelled.Add(1)
			return
		}
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	size, _ := strconv.Atoi(r.URL.Query().Get("size"))
	if size <= 0 {
		size = 10
	}
	size = min(size, 200)
	if page == s.failPage {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"type":"NOT_FOUND","message":"page %d gone","status":404}`, page)
		return
	}
	total := (s.n + size - 1) / size
	items := []map[string]any{}
	for i := page * size; i < min((page+1)*size, s.n); i++ {
		items = append(items, map[string]any{"id": fmt.Sprintf("sub-%05d", i), "quantity": i, "status": "Active"})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"content": items,
		"page":    map[string]any{"size": size, "totalElements": s.n, "totalPages": total, "number": page},
	})
}
