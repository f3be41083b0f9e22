package oauthx_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/testenv"
)

// trustedCA is the CA this test binary's system roots hold: TestMain writes
// it to SSL_CERT_FILE before any TLS verification, so the default clients
// (which use the system roots) trust it and nothing else.
var trustedCA *testenv.CA

func TestMain(m *testing.M) {
	ca, err := testenv.NewCA("grantd test trusted CA")
	if err != nil {
		fmt.Fprintln(os.Stderr, "oauthx tests:", err)
		os.Exit(1)
	}
	trustedCA = ca
	code, err := testenv.RunTrusting(m, ca)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oauthx tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func tokenRequest(url string) oauthx.Request {
	return oauthx.Request{
		TokenURL:     url + "/oauth/token",
		ClientID:     "client",
		ClientSecret: "secret-canary",
		Params:       map[string]string{"grant_type": "refresh_token", "refresh_token": "rt-canary"},
	}
}

// TestTokenRequestTLSValidationSEC50 sends a refresh grant with oauthx.Do
// and the broker's default HTTP client to HTTPS token endpoints whose
// certificates are wrong in one way each. Only the correct certificate
// from the trusted CA gets a request through; every other connection fails
// with a certificate error, and the refresh token never reaches the server
// (SEC-50).
func TestTokenRequestTLSValidationSEC50(t *testing.T) {
	for _, tc := range testenv.CertCases(t, trustedCA) {
		t.Run(tc.Name, func(t *testing.T) {
			if tc.Check == nil && (runtime.GOOS == "darwin" || runtime.GOOS == "windows" || runtime.GOOS == "ios") {
				t.Skip("the platform verifier ignores SSL_CERT_FILE")
			}
			srv, reached := testenv.TLSServer(t, &tls.Config{Certificates: []tls.Certificate{tc.Cert}}, `{"access_token":"at-canary","token_type":"Bearer","expires_in":3600}`)
			tok, err := oauthx.Do(t.Context(), broker.DefaultHTTPClient(), nil, tokenRequest(srv.URL))
			if tc.Check == nil {
				if err != nil || tok == nil {
					t.Fatalf("Do with a valid certificate = %v; the setup is broken", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("SEC-50: Do accepted a %s certificate", tc.Name)
			}
			if !tc.Check(err) {
				t.Errorf("Do = %v, want a %s certificate error", err, tc.Name)
			}
			if reached.Load() != 0 {
				t.Errorf("SEC-50: %d requests reached a server with a %s certificate", reached.Load(), tc.Name)
			}
		})
	}
}

// TestTokenRequestTLSVersionSEC51 offers only TLS 1.0 and 1.1: the broker's
// default client, which sets no MinVersion, must fail the handshake (Go's
// crypto/tls client never offers less than TLS 1.2 when MinVersion is zero,
// whatever GODEBUG says) while a client that allows TLS 1.0 gets through,
// which shows the server really speaks TLS 1.1 (SEC-51).
func TestTokenRequestTLSVersionSEC51(t *testing.T) {
	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	cert := testenv.Leaf(t, trustedCA, loopback, nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	srv, reached := testenv.TLSServer(t, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS11,
	}, `{"access_token":"at-canary","token_type":"Bearer","expires_in":3600}`)

	roots := x509.NewCertPool()
	roots.AddCert(trustedCA.Cert)
	legacy := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10}}}
	t.Cleanup(legacy.CloseIdleConnections)
	if _, err := oauthx.Do(t.Context(), legacy, nil, tokenRequest(srv.URL)); err != nil {
		t.Fatalf("a TLS 1.0 client cannot reach the TLS 1.1 server (%v); the setup is broken", err)
	}
	before := reached.Load()

	_, err := oauthx.Do(t.Context(), broker.DefaultHTTPClient(), nil, tokenRequest(srv.URL))
	if err == nil {
		t.Fatal("SEC-51: the default client completed a TLS 1.1 handshake")
	}
	if !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("Do = %v, want a protocol version alert", err)
	}
	if reached.Load() != before {
		t.Error("SEC-51: the request reached the TLS 1.1 server")
	}
}
