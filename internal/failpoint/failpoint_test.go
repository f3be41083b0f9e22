package failpoint_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/failpoint"
)

func TestSetAndUnset(t *testing.T) {
	n := 0
	failpoint.Hit(failpoint.RefreshAfterReceive)
	if failpoint.Armed() {
		t.Fatal("Armed before Set")
	}
	unset := failpoint.Set(failpoint.RefreshAfterReceive, func() { n++ })
	failpoint.Hit(failpoint.RefreshAfterReceive)
	failpoint.Hit(failpoint.RefreshBeforeSend)
	if n != 1 || !failpoint.Armed() {
		t.Fatalf("hits = %d, armed %v; want 1, true", n, failpoint.Armed())
	}
	unset()
	failpoint.Hit(failpoint.RefreshAfterReceive)
	if n != 1 || failpoint.Armed() {
		t.Fatalf("after unset: hits = %d, armed %v; want 1, false", n, failpoint.Armed())
	}
}

// TestConnHitsAfterWrite: an armed Conn hits its failpoint once, after the
// bytes were written to the peer, and not before.
func TestConnHitsAfterWrite(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	read := make(chan string, 2)
	go func() {
		buf := make([]byte, 16)
		for {
			n, err := server.Read(buf)
			if err != nil {
				return
			}
			read <- string(buf[:n])
		}
	}()
	c := failpoint.WrapDial(func(context.Context, string, string) (net.Conn, error) { return client, nil })
	conn, err := c(t.Context(), "tcp", "x")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var hits []string
	defer failpoint.Set(failpoint.RefreshAfterSend, func() {
		select {
		case got := <-read:
			hits = append(hits, got)
		case <-time.After(5 * time.Second):
			hits = append(hits, "(the peer never read it)")
		}
	})()
	if !failpoint.ArmAfterWrite(conn, failpoint.RefreshAfterSend) {
		t.Fatal("ArmAfterWrite did not find the *Conn")
	}
	conn.Write([]byte("POST /token"))
	conn.Write([]byte("more"))
	if len(hits) != 1 || hits[0] != "POST /token" {
		t.Errorf("hits = %q, want one, after the peer read the request", hits)
	}
}
