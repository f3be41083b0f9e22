package pax8_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"

	"github.com/grantd/grantd/pax8"
)

// fakePax8 serves a tiny partner API: 5 companies, one subscription, and a
// 404 for everything else, in Pax8's envelope and error shapes.
func fakePax8() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/companies", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		fmt.Fprint(w, `{"content":[`)
		for i := page * size; i < min((page+1)*size, 5); i++ {
			if i > page*size {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"id":"c%d","name":"Company %d","status":"Active"}`, i, i)
		}
		fmt.Fprintf(w, `],"page":{"size":%d,"totalElements":5,"totalPages":%d,"number":%d}}`, size, (5+size-1)/size, page)
	})
	mux.HandleFunc("PUT /v1/subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, `{"id":%q,"quantity":11,"status":"Active","commitment":{"term":"Annual"}}`, r.PathValue("id"))
	})
	mux.HandleFunc("POST /v1/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		fmt.Fprint(w, `{"access_token":"example-token","expires_in":86400,"token_type":"Bearer"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"type":"NOT_FOUND","message":"Not Found","instance":"/public%s","status":404}`, r.URL.Path)
	})
	return httptest.NewServer(mux)
}

func ExampleCredentials() {
	srv := fakePax8()
	defer srv.Close()
	// In production, leave TokenURL empty (DefaultTokenURL) and omit
	// WithBaseURL.
	cred := pax8.Credentials{ClientID: "my-client-id", ClientSecret: "my-client-secret", TokenURL: srv.URL + "/v1/token"}
	c := pax8.NewClient(cred.Client(nil), pax8.WithBaseURL(srv.URL+"/v1"))

	var resp pax8.Response
	opts := &pax8.CompanyListOptions{ListOptions: pax8.ListOptions{Size: 10}}
	page, err := c.Companies.List(pax8.WithResponse(context.Background(), &resp), opts)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(resp.StatusCode, page.Page.TotalElements, "companies")
	// Output:
	// 200 5 companies
}

func ExampleAmount() {
	price := pax8.MustParseAmount("12.10")
	total := price.MulQuantity(3).Add(pax8.MustParseAmount("0.1")).Add(pax8.MustParseAmount("0.2"))
	fmt.Println(total, total.In("USD"))
	fmt.Println(total.Cmp(pax8.MustParseAmount("36.6")) == 0)
	// Output:
	// 36.60 36.60 USD
	// true
}

func ExampleCompaniesService_All() {
	srv := fakePax8()
	defer srv.Close()
	// In production, pass an authorised client (for example from
	// golang.org/x/oauth2) and omit WithBaseURL.
	c := pax8.NewClient(srv.Client(), pax8.WithBaseURL(srv.URL+"/v1"))

	opts := &pax8.CompanyListOptions{ListOptions: pax8.ListOptions{Size: 2}, Status: pax8.CompanyActive}
	for co, err := range c.Companies.All(context.Background(), opts) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(co.ID, co.Name)
	}
	// Output:
	// c0 Company 0
	// c1 Company 1
	// c2 Company 2
	// c3 Company 3
	// c4 Company 4
}

func ExampleCompaniesService_List() {
	srv := fakePax8()
	defer srv.Close()
	c := pax8.NewClient(srv.Client(), pax8.WithBaseURL(srv.URL+"/v1"))

	page, err := c.Companies.List(context.Background(), &pax8.CompanyListOptions{ListOptions: pax8.ListOptions{Page: 1, Size: 3}})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("page %d of %d, %d companies in all\n", page.Page.Number+1, page.Page.TotalPages, page.Page.TotalElements)
	for _, co := range page.Content {
		fmt.Println(co.Name)
	}
	fmt.Println("more:", page.HasNext())
	// Output:
	// page 2 of 2, 5 companies in all
	// Company 3
	// Company 4
	// more: false
}

func ExampleSubscriptionsService_Update() {
	srv := fakePax8()
	defer srv.Close()
	c := pax8.NewClient(srv.Client(), pax8.WithBaseURL(srv.URL+"/v1"))

	sub, err := c.Subscriptions.Update(context.Background(), "s1", &pax8.SubscriptionUpdate{Quantity: new(pax8.Number(11))})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	// The live API's "commitment" field is read into CommitmentTerm.
	fmt.Println(sub.ID, sub.Quantity, sub.Status, sub.CommitmentTerm.Term)
	// Output:
	// s1 11 Active Annual
}

func ExampleError() {
	srv := fakePax8()
	defer srv.Close()
	c := pax8.NewClient(srv.Client(), pax8.WithBaseURL(srv.URL+"/v1"))

	_, err := c.Orders.Get(context.Background(), "missing")
	if errors.Is(err, pax8.ErrNotFound) {
		fmt.Println("no such order")
	}
	if e, ok := errors.AsType[*pax8.Error](err); ok {
		fmt.Println(e.Status, e.Type, e.Instance)
	}
	fmt.Println(err)
	// Output:
	// no such order
	// 404 NOT_FOUND /public/v1/orders/missing
	// pax8: GET /orders/missing: 404 NOT_FOUND: Not Found
}
