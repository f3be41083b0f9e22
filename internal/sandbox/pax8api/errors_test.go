package pax8api

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorBodies(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	const missing = "3d0617ac-0000-4000-8000-000000000000"
	tests := []struct {
		name, partner, method, path string
		want                        pax8Error
		wantAllow                   string
	}{
		{
			name: "company not found", method: http.MethodGet, path: "/companies/" + missing,
			want: pax8Error{Type: "NOT_FOUND", Message: "Company Not Found: " + missing, Instance: "/public/v1/companies/" + missing, Status: 404},
		},
		{
			name: "subscription not found", method: http.MethodGet, path: "/subscriptions/" + missing,
			want: pax8Error{Type: "NOT_FOUND", Message: "Subscription Not Found: " + missing, Instance: "/public/v1/subscriptions/" + missing, Status: 404},
		},
		{
			name: "unknown path", method: http.MethodGet, path: "/widgets",
			want: pax8Error{Type: "NOT_FOUND", Message: "Resource Not Found: /widgets", Instance: "/public/v1/widgets", Status: 404},
		},
		{
			name: "wrong method", method: http.MethodDelete, path: "/products",
			want:      pax8Error{Type: "METHOD_NOT_ALLOWED", Message: "Method Not Allowed: DELETE", Instance: "/public/v1/products", Status: 405},
			wantAllow: "GET, HEAD",
		},
		{
			name: "no partner in context", partner: "-", method: http.MethodGet, path: "/companies",
			want: pax8Error{Type: "UNAUTHORIZED", Message: "No valid API key provided", Instance: "/public/v1/companies", Status: 401},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call[pax8Error](s, tt.partner, tt.method, tt.path, nil, tt.want.Status)
			if got.Details == nil {
				t.Errorf("details is missing, want []")
			}
			got.Details = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s %s error (-want +got):\n%s", tt.method, tt.path, diff)
			}
		})
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, s.srv.URL+apiBase+"/products", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
}

func TestMalformedBody(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	for _, body := range []string{"", "{", `{"name": 5}`, `{"name":"a"} {"name":"b"}`} {
		got := call[pax8Error](s, "", http.MethodPost, "/companies", body, http.StatusBadRequest)
		if got.Type != "BAD_REQUEST" {
			t.Errorf("POST /companies %q: type = %q, want BAD_REQUEST", body, got.Type)
		}
	}
}
