package app

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestAccessLogMasksEveryPathForm (issue 7 §8) sends a real connect
// link's token in every spelling of its path, and a mapping link's, to the
// whole server: whatever grantd answers (the page, a redirect, 404, 405),
// the access log never holds the token.
func TestAccessLogMasksEveryPathForm(t *testing.T) {
	s, logs := limitedStack(t, 20, nil)
	link := s.connectSession(t, nil)
	token := link[strings.LastIndex(link, "/")+1:]
	const mapToken = "mapping-link-token-canary"
	hostport := strings.TrimPrefix(s.publicURL, "http://")
	for _, target := range []string{
		"/connect/" + token,
		"//connect/" + token,
		"/connect//" + token,
		"/connect/" + token + "/",
		"/connect/" + token + "/start",
		"/connect%2F" + token,
		"/connect%252F" + token,
		"/%63onnect/" + token,
		"/./connect/" + token,
		"/CONNECT/" + token,
		"/mappings/" + mapToken,
		"//mappings/" + mapToken + "/x",
		"/mappings%2F" + mapToken,
		"http://connect/" + token,
		"http://user:pw@mappings/" + mapToken,
	} {
		rawGet(t, hostport, target)
	}
	out := logs.String()
	if n := strings.Count(out, `msg="http request"`); n != 16 { // and POST /v1/connect-sessions
		t.Errorf("%d access-log lines, want 16", n)
	}
	for _, secret := range []string{token, mapToken} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs contain the link token %q:\n%s", secret, out)
		}
	}
}

// rawGet sends "GET target" byte for byte (a client would clean or
// re-escape it) and reads the status line.
func rawGet(t *testing.T, hostport, target string) {
	t.Helper()
	c, err := net.Dial("tcp", hostport)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, hostport)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	resp.Body.Close()
}
