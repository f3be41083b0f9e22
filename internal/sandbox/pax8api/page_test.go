package pax8api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPaginationMath(t *testing.T) {
	s := newTestServer(t, Options{Seed: 7, Size: Size{Companies: 65, Subscriptions: 450}})
	tests := []struct {
		path        string
		wantPage    pageInfo
		wantContent int
	}{
		{"/companies", pageInfo{Size: 10, TotalElements: 65, TotalPages: 7, Number: 0}, 10},
		{"/companies?page=6", pageInfo{Size: 10, TotalElements: 65, TotalPages: 7, Number: 6}, 5},
		{"/companies?page=7", pageInfo{Size: 10, TotalElements: 65, TotalPages: 7, Number: 7}, 0},
		{"/companies?size=65", pageInfo{Size: 65, TotalElements: 65, TotalPages: 1, Number: 0}, 65},
		{"/companies?size=1&page=64", pageInfo{Size: 1, TotalElements: 65, TotalPages: 65, Number: 64}, 1},
		{"/subscriptions?size=200", pageInfo{Size: 200, TotalElements: 450, TotalPages: 3, Number: 0}, 200},
		{"/subscriptions?size=200&page=2", pageInfo{Size: 200, TotalElements: 450, TotalPages: 3, Number: 2}, 50},
		{"/subscriptions?size=200&page=99999999", pageInfo{Size: 200, TotalElements: 450, TotalPages: 3, Number: 99999999}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := get[paged[map[string]any]](s, tt.path)
			if diff := cmp.Diff(tt.wantPage, got.Page); diff != "" {
				t.Errorf("GET %s page (-want +got):\n%s", tt.path, diff)
			}
			if len(got.Content) != tt.wantContent {
				t.Errorf("GET %s returned %d items, want %d", tt.path, len(got.Content), tt.wantContent)
			}
			if got.Content == nil {
				t.Errorf("GET %s content is null, want an array", tt.path)
			}
		})
	}
}

func TestPaginationBadParams(t *testing.T) {
	s := newTestServer(t, Options{Seed: 7})
	for _, q := range []string{"size=201", "size=0", "size=-1", "size=abc", "size=10.5", "page=-1", "page=x", "sort=phone", "sort=name,sideways"} {
		for _, base := range []string{"/companies", "/subscriptions", "/invoices"} {
			path := base + "?" + q
			if strings.HasPrefix(q, "sort=name") && base != "/companies" {
				continue
			}
			t.Run(path, func(t *testing.T) {
				got := call[pax8Error](s, "", http.MethodGet, path, nil, http.StatusBadRequest)
				if got.Status != http.StatusBadRequest || got.Message == "" || !strings.HasPrefix(got.Instance, "/public/v1"+base) {
					t.Errorf("GET %s error = %+v, want a Pax8 400 body", path, got)
				}
			})
		}
	}
}

// TestPaginationWalk checks that walking every page yields every record once,
// in a stable order.
func TestPaginationWalk(t *testing.T) {
	s := newTestServer(t, Options{Seed: 3, Size: Size{Subscriptions: 1234}})
	first := allPages[subscription](s, "/subscriptions")
	second := allPages[subscription](s, "/subscriptions")
	if len(first) != 1234 {
		t.Fatalf("walked %d subscriptions, want 1234", len(first))
	}
	ids := map[string]bool{}
	for _, sub := range first {
		if ids[sub.ID] {
			t.Fatalf("subscription %s appears twice", sub.ID)
		}
		ids[sub.ID] = true
	}
	if diff := cmp.Diff(first, second, cmp.AllowUnexported(subscription{})); diff != "" {
		t.Errorf("second walk differs (-first +second):\n%s", diff)
	}
}

func TestCompanySort(t *testing.T) {
	s := newTestServer(t, Options{Seed: 11, Size: Size{Companies: 40}})
	fields := map[string]func(c company) string{
		"name":            func(c company) string { return c.Name },
		"city":            func(c company) string { return c.Address.City },
		"country":         func(c company) string { return c.Address.Country },
		"stateOrProvince": func(c company) string { return c.Address.StateOrProvince },
		"postalCode":      func(c company) string { return c.Address.PostalCode },
	}
	for field, key := range fields {
		for _, dir := range []string{"asc", "desc"} {
			got := get[paged[company]](s, "/companies?size=200&sort="+field+","+dir).Content
			keys := make([]string, len(got))
			for i, c := range got {
				keys[i] = strings.ToLower(key(c))
			}
			want := slices.Clone(keys)
			slices.Sort(want)
			if dir == "desc" {
				slices.Reverse(want)
			}
			if !slices.Equal(keys, want) {
				t.Errorf("sort=%s,%s gave %q, want sorted", field, dir, keys)
			}
		}
	}
}
