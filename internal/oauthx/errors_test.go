package oauthx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestSendClassification checks IsTransient and IsSentUncertain on real
// network failures (SEC-30): a server that hangs after reading the request
// leaves the outcome unknown; a refused connection means nothing was sent.
func TestSendClassification(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })

	reset := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("server: cannot hijack")
			return
		}
		conn, _, _ := hj.Hijack()
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close with RST
		}
		conn.Close()
	}))
	reset.Start()
	t.Cleanup(reset.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + ln.Addr().String() + "/token"
	ln.Close()

	tests := []struct {
		name          string
		url           string
		timeout       time.Duration
		wantTransient bool
		wantUncertain bool
	}{
		{"hang past client timeout", hang.URL, 200 * time.Millisecond, true, true},
		{"connection reset while reading", reset.URL, 5 * time.Second, true, true},
		{"connection refused", refusedURL, 5 * time.Second, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := &http.Client{Timeout: tt.timeout}
			_, err := Do(t.Context(), hc, nil, codeRequest(tt.url))
			if err == nil {
				t.Fatal("Do succeeded, want an error")
			}
			if got := IsTransient(err); got != tt.wantTransient {
				t.Errorf("IsTransient(%q) = %v, want %v", err, got, tt.wantTransient)
			}
			if got := IsSentUncertain(err); got != tt.wantUncertain {
				t.Errorf("IsSentUncertain(%q) = %v, want %v", err, got, tt.wantUncertain)
			}
			if IsInvalidGrant(err) {
				t.Errorf("IsInvalidGrant(%q) = true", err)
			}
			assertNoCanary(t, err)
		})
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("SEC-30: hanging server saw %d requests, want 1 (Do never retries)", got)
	}
}

func TestContextDeadlineBeforeSending(t *testing.T) {
	srv, got := recordingServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Do(ctx, srv.Client(), nil, codeRequest(srv.URL))
	if err == nil {
		t.Fatal("Do succeeded with a cancelled context")
	}
	if IsSentUncertain(err) || IsTransient(err) {
		t.Errorf("cancelled before sending: IsSentUncertain = %v, IsTransient = %v, want false, false", IsSentUncertain(err), IsTransient(err))
	}
	if len(*got) != 0 {
		t.Errorf("server got %d requests, want 0", len(*got))
	}
}

func TestErrorPredicates(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("refresh grant g1: %w", err) }
	tests := []struct {
		name                                       string
		err                                        error
		wantInvalidGrant, wantTransient, wantUncrt bool
	}{
		{"nil", nil, false, false, false},
		{"invalid_grant 403", wrap(&TokenError{Code: "invalid_grant", Status: 403}), true, false, false},
		{"invalid_grant 400", &TokenError{Code: "invalid_grant", Status: 400}, true, false, false},
		{"invalid_client 401", &TokenError{Code: "invalid_client", Status: 401}, false, false, false},
		{"temporarily_unavailable 400", &TokenError{Code: "temporarily_unavailable", Status: 400}, false, true, false},
		{"503 html", &TokenError{Status: 503, ContentType: "text/html"}, false, true, false},
		{"429", wrap(&TokenError{Status: 429}), false, true, false},
		{"userinfo 502", wrap(&StatusError{Endpoint: "userinfo", Status: 502}), false, true, false},
		{"userinfo 401", &StatusError{Endpoint: "userinfo", Status: 401}, false, false, false},
		{"deadline", wrap(context.DeadlineExceeded), false, true, false},
		{"canceled", wrap(context.Canceled), false, false, false},
		{"plain", errors.New("token response: missing access_token"), false, false, false},
		{"sent", wrap(&sendError{err: errors.New("eof"), sent: true}), false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsInvalidGrant(tt.err); got != tt.wantInvalidGrant {
				t.Errorf("IsInvalidGrant(%v) = %v, want %v", tt.err, got, tt.wantInvalidGrant)
			}
			if got := IsTransient(tt.err); got != tt.wantTransient {
				t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.wantTransient)
			}
			if got := IsSentUncertain(tt.err); got != tt.wantUncrt {
				t.Errorf("IsSentUncertain(%v) = %v, want %v", tt.err, got, tt.wantUncrt)
			}
		})
	}
}
