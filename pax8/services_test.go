package pax8

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestServiceRequests checks, for every service method, the request sent
// (method, escaped path, query, JSON body) and the decoding of the reply.
func TestServiceRequests(t *testing.T) {
	yes := true
	offset := 0
	total := Amount{}
	cancelAt := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		call   func(ctx context.Context, c *Client) (any, error)
		status int
		reply  string
		method string
		path   string
		query  url.Values
		body   string // JSON, compared structurally; "" means no body
		want   any
	}{
		{
			name: "companies list with filters",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Companies.List(ctx, &CompanyListOptions{ListOptions: ListOptions{Page: 2, Size: 500, Sort: "name,desc"}, City: "Denver", SelfServiceAllowed: &yes, Status: CompanyActive})
			},
			reply:  `{"content":[{"id":"c1","name":"Acme","updatedDate":"2023-08-11T11:33:12.314-0600"}],"page":{"size":200,"totalElements":401,"totalPages":3,"number":2}}`,
			method: "GET", path: "/v1/companies",
			query: url.Values{"page": {"2"}, "size": {"200"}, "sort": {"name,desc"}, "city": {"Denver"}, "selfServiceAllowed": {"true"}, "status": {"Active"}},
			want: &Page[Company]{
				Content: []Company{{ID: "c1", Name: "Acme", UpdatedDate: Time{time.Date(2023, 8, 11, 11, 33, 12, 314e6, time.FixedZone("", -6*3600))}}},
				Page:    PageInfo{Size: 200, TotalElements: 401, TotalPages: 3, Number: 2},
			},
		},
		{
			name:   "companies get escapes the id",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Companies.Get(ctx, "a/b?c") },
			reply:  `{"id":"a/b?c","name":"Acme","status":"Active","billOnBehalfOfEnabled":true}`,
			method: "GET", path: "/v1/companies/a%2Fb%3Fc", query: url.Values{},
			want: &Company{ID: "a/b?c", Name: "Acme", Status: CompanyActive, BillOnBehalfOfEnabled: true},
		},
		{
			name: "companies create",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Companies.Create(ctx, &Company{Name: "Acme", Address: Address{City: "Denver", Country: "US"}, Phone: "555", Website: "acme.example",
					Contacts: []Contact{{FirstName: "Jo", LastName: "Doe", Email: "jo@acme.example", Phone: "555", Types: []ContactType{{Type: ContactAdmin, Primary: true}}}}})
			},
			reply:  `{"id":"c9","name":"Acme","status":"Inactive"}`,
			method: "POST", path: "/v1/companies", query: url.Values{},
			body: `{"name":"Acme","address":{"city":"Denver","country":"US"},"phone":"555","website":"acme.example","billOnBehalfOfEnabled":false,"selfServiceAllowed":false,"orderApprovalRequired":false,
				"contacts":[{"firstName":"Jo","lastName":"Doe","email":"jo@acme.example","phone":"555","types":[{"type":"Admin","primary":true}]}]}`,
			want: &Company{ID: "c9", Name: "Acme", Status: CompanyInactive},
		},
		{
			name: "companies update sends only set fields",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Companies.Update(ctx, "c1", &CompanyUpdate{Website: new("new.example"), OrderApprovalRequired: new(false)})
			},
			reply:  `{"id":"c1","name":"Acme","website":"new.example"}`,
			method: "PATCH", path: "/v1/companies/c1", query: url.Values{},
			body: `{"website":"new.example","orderApprovalRequired":false}`,
			want: &Company{ID: "c1", Name: "Acme", Website: "new.example"},
		},
		{
			name: "contacts list",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Contacts.List(ctx, "c1", &ListOptions{Size: 5})
			},
			reply:  `{"content":[{"id":"k1","firstName":"Jo","createdDate":"2020-05-12","phoneNumber":"5551234","phoneCountryCode":"US","phoneCountryCallingcode":"1"}],"page":{"size":5,"totalElements":1,"totalPages":1,"number":0}}`,
			method: "GET", path: "/v1/companies/c1/contacts", query: url.Values{"size": {"5"}},
			want: &Page[Contact]{
				Content: []Contact{{ID: "k1", FirstName: "Jo", CreatedDate: Date{2020, 5, 12}, PhoneNumber: "5551234", PhoneCountryCode: "US", PhoneCountryCallingCode: "1"}},
				Page:    PageInfo{Size: 5, TotalElements: 1, TotalPages: 1},
			},
		},
		{
			name:   "contacts get",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Contacts.Get(ctx, "c1", "k1") },
			reply:  `{"id":"k1","firstName":"Jo","types":[{"type":"Billing","primary":true}]}`,
			method: "GET", path: "/v1/companies/c1/contacts/k1", query: url.Values{},
			want: &Contact{ID: "k1", FirstName: "Jo", Types: []ContactType{{Type: ContactBilling, Primary: true}}},
		},
		{
			name: "contacts create",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Contacts.Create(ctx, "c1", &Contact{FirstName: "Jo", LastName: "Doe", Email: "jo@x.example", Phone: "555"})
			},
			reply:  `{"id":"k2","firstName":"Jo"}`,
			method: "POST", path: "/v1/companies/c1/contacts", query: url.Values{},
			body: `{"firstName":"Jo","lastName":"Doe","email":"jo@x.example","phone":"555"}`,
			want: &Contact{ID: "k2", FirstName: "Jo"},
		},
		{
			name: "contacts update",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Contacts.Update(ctx, "c1", "k2", &Contact{FirstName: "Jo", LastName: "Roe", Email: "jo@x.example"})
			},
			reply:  `{"id":"k2","lastName":"Roe"}`,
			method: "PUT", path: "/v1/companies/c1/contacts/k2", query: url.Values{},
			body: `{"firstName":"Jo","lastName":"Roe","email":"jo@x.example"}`,
			want: &Contact{ID: "k2", LastName: "Roe"},
		},
		{
			name:   "contacts delete",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.Contacts.Delete(ctx, "c1", "k2") },
			status: http.StatusNoContent, reply: "",
			method: "DELETE", path: "/v1/companies/c1/contacts/k2", query: url.Values{},
		},
		{
			name: "products list",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Products.List(ctx, &ProductListOptions{Search: "office 365", VendorName: "Microsoft", ListOptions: ListOptions{Sort: "vendor"}})
			},
			reply:  `{"content":[{"id":"p1","name":"O365","requiresCommitment":true}],"page":{"size":10,"totalElements":1,"totalPages":1,"number":0}}`,
			method: "GET", path: "/v1/products", query: url.Values{"search": {"office 365"}, "vendorName": {"Microsoft"}, "sort": {"vendor"}},
			want: &Page[Product]{Content: []Product{{ID: "p1", Name: "O365", RequiresCommitment: true}}, Page: PageInfo{Size: 10, TotalElements: 1, TotalPages: 1}},
		},
		{
			name:   "products get",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Products.Get(ctx, "p1") },
			reply:  `{"id":"p1","name":"O365","description":"long","vendorSku":"V1"}`,
			method: "GET", path: "/v1/products/p1", query: url.Values{},
			want: &ProductDetail{Product: Product{ID: "p1", Name: "O365", VendorSKU: "V1"}, Description: "long"},
		},
		{
			name:   "products provision details",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Products.ProvisionDetails(ctx, "p1") },
			reply:  `{"content":[{"label":"Domain","key":"msDomain","valueType":"Input"},{"key":"msCustExists","valueType":"Single-Value","possibleValues":["No","Yes"]}]}`,
			method: "GET", path: "/v1/products/p1/provision-details", query: url.Values{},
			want: []ProvisioningDetail{{Label: "Domain", Key: "msDomain", ValueType: ValueInput}, {Key: "msCustExists", ValueType: ValueSingleValue, PossibleValues: []string{"No", "Yes"}}},
		},
		{
			name:   "products pricing for a company",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Products.Pricing(ctx, "p1", "c1") },
			reply:  `{"content":[{"productId":"p1","billingTerm":"Annual","commitmentTermInMonths":"12","type":"Volume","rates":[{"partnerBuyRate":145.8,"suggestedRetailPrice":"151.8","startQuantityRange":1,"endQuantityRange":null,"chargeType":"Per Unit"}]}]}`,
			method: "GET", path: "/v1/products/p1/pricing", query: url.Values{"companyId": {"c1"}},
			want: []Pricing{{ProductID: "p1", BillingTerm: BillingAnnual, CommitmentTermInMonths: 12, Type: PricingVolume,
				Rates: []Rate{{PartnerBuyRate: MustParseAmount("145.8"), SuggestedRetailPrice: MustParseAmount("151.8"), StartQuantityRange: 1, ChargeType: "Per Unit"}}}},
		},
		{
			name:   "products dependencies",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Products.Dependencies(ctx, "p1") },
			reply:  `{"commitmentDependencies":[{"id":"t1","term":"3-Year","autoRenew":true}],"productDependencies":[{"name":"Requires","products":[{"id":"p0","name":"Base"}]}]}`,
			method: "GET", path: "/v1/products/p1/dependencies", query: url.Values{},
			want: &Dependencies{CommitmentDependencies: []Commitment{{ID: "t1", Term: "3-Year", AutoRenew: true}}, ProductDependencies: []ProductDependency{{Name: "Requires", Products: []Product{{ID: "p0", Name: "Base"}}}}},
		},
		{
			name: "orders list by company",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Orders.List(ctx, &OrderListOptions{CompanyID: "c1"})
			},
			reply:  `{"content":[{"id":"o1","companyId":"c1","createdDate":"2020-12-01","orderedBy":"Pax8Partner","lineItems":[]}],"page":{"size":10,"totalElements":1,"totalPages":1,"number":0}}`,
			method: "GET", path: "/v1/orders", query: url.Values{"companyId": {"c1"}},
			want: &Page[Order]{Content: []Order{{ID: "o1", CompanyID: "c1", CreatedDate: Date{2020, 12, 1}, OrderedBy: OrderedByPax8Partner, LineItems: []LineItem{}}}, Page: PageInfo{Size: 10, TotalElements: 1, TotalPages: 1}},
		},
		{
			name:   "orders get",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Orders.Get(ctx, "o1") },
			reply:  `{"id":"o1","companyId":"c1","orderedBy":"Pax8 Partner","lineItems":[{"id":"l1","productId":"p1","subscriptionId":"s1","commitmentTermID":"t1","provisionStartDate":"2021-01-01T08:30:00Z","billingTerm":"Monthly","quantity":5}]}`,
			method: "GET", path: "/v1/orders/o1", query: url.Values{},
			want: &Order{ID: "o1", CompanyID: "c1", OrderedBy: OrderedByPax8Partner, LineItems: []LineItem{{ID: "l1", ProductID: "p1", SubscriptionID: "s1", CommitmentTermID: "t1",
				ProvisionStartDate: Time{time.Date(2021, 1, 1, 8, 30, 0, 0, time.UTC)}, BillingTerm: BillingMonthly, Quantity: 5}}},
		},
		{
			name: "orders create mock",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Orders.Create(ctx, &OrderCreate{CompanyID: "c1", OrderedBy: OrderedByPax8Partner, LineItems: []LineItemCreate{{
					ProductID: "p1", LineItemNumber: 1, Quantity: 5, BillingTerm: BillingMonthly, CommitmentTermID: "t1",
					ProvisioningDetails: []ProvisioningValue{{Key: "msDomain", Values: []string{"acme"}}}}}}, true)
			},
			reply:  `{"id":"o2","companyId":"c1","lineItems":[{"id":"l1","productId":"p1","quantity":5}]}`,
			method: "POST", path: "/v1/orders", query: url.Values{"isMock": {"true"}},
			body: `{"companyId":"c1","orderedBy":"Pax8 Partner","lineItems":[{"productId":"p1","lineItemNumber":1,"quantity":5,"billingTerm":"Monthly","commitmentTermId":"t1","provisioningDetails":[{"key":"msDomain","values":["acme"]}]}]}`,
			want: &Order{ID: "o2", CompanyID: "c1", LineItems: []LineItem{{ID: "l1", ProductID: "p1", Quantity: 5}}},
		},
		{
			name: "subscriptions list",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Subscriptions.List(ctx, &SubscriptionListOptions{Status: SubscriptionActive, BillingTerm: Billing3Year, CompanyID: "c1", ProductID: "p1", ListOptions: ListOptions{Sort: "startDate,desc"}})
			},
			reply:  `{"content":[],"page":{"size":10,"totalElements":0,"totalPages":0,"number":0}}`,
			method: "GET", path: "/v1/subscriptions", query: url.Values{"status": {"Active"}, "billingTerm": {"3-Year"}, "companyId": {"c1"}, "productId": {"p1"}, "sort": {"startDate,desc"}},
			want: &Page[Subscription]{Content: []Subscription{}, Page: PageInfo{Size: 10}},
		},
		{
			name:   "subscriptions get",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Subscriptions.Get(ctx, "s1") },
			reply:  `{"id":"s1","quantity":"5","price":32.01,"billingStart":"2021-01-01","status":"Active","commitment":{"id":"t1","term":"Annual","endDate":"2022-01-01T00:00:00Z"}}`,
			method: "GET", path: "/v1/subscriptions/s1", query: url.Values{},
			want: &Subscription{ID: "s1", Quantity: 5, Price: MustParseAmount("32.01"), BillingStart: Date{2021, 1, 1}, Status: SubscriptionActive,
				CommitmentTerm: &SubscriptionCommitment{ID: "t1", Term: "Annual", EndDate: Time{time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		},
		{
			name: "subscriptions update",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Subscriptions.Update(ctx, "s1", &SubscriptionUpdate{Quantity: new(Number(11)), Price: new(AmountFromInt(0))})
			},
			reply:  `{"id":"s1","quantity":11}`,
			method: "PUT", path: "/v1/subscriptions/s1", query: url.Values{},
			body: `{"quantity":11,"price":0}`,
			want: &Subscription{ID: "s1", Quantity: 11},
		},
		{
			name: "subscriptions cancel at a date",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Subscriptions.Cancel(ctx, "s1", cancelAt)
			},
			status: http.StatusNoContent, reply: "",
			method: "DELETE", path: "/v1/subscriptions/s1", query: url.Values{"cancelDate": {"2026-03-01T00:00:00Z"}},
		},
		{
			name: "subscriptions cancel now",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Subscriptions.Cancel(ctx, "s1", time.Time{})
			},
			status: http.StatusNoContent, reply: "",
			method: "DELETE", path: "/v1/subscriptions/s1", query: url.Values{},
		},
		{
			name:   "subscriptions history",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Subscriptions.History(ctx, "s1") },
			reply:  `{"content":[{"id":"s1","quantity":5,"updatedDate":"2020-12-10T03:12:14.453-0300"},{"id":"s1","quantity":2}]}`,
			method: "GET", path: "/v1/subscriptions/s1/history", query: url.Values{},
			want: []Subscription{{ID: "s1", Quantity: 5, UpdatedDate: Time{time.Date(2020, 12, 10, 3, 12, 14, 453e6, time.FixedZone("", -3*3600))}}, {ID: "s1", Quantity: 2}},
		},
		{
			name: "invoices list",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Invoices.List(ctx, &InvoiceListOptions{Status: InvoiceNothingDue, InvoiceDateRangeStart: Date{2025, 1, 1}, InvoiceDateRangeEnd: Date{2025, 3, 31}, Total: &total, CompanyID: "c1"})
			},
			reply:  `{"content":[{"id":"i1","total":"9985.96","status":"Nothing Due","invoiceDate":"2025-02-01","dueDate":"2025-02-15"}],"page":{"size":"10","totalElements":"1","totalPages":"1","number":"0"}}`,
			method: "GET", path: "/v1/invoices", query: url.Values{"status": {"Nothing Due"}, "invoiceDateRangeStart": {"2025-01-01"}, "invoiceDateRangeEnd": {"2025-03-31"}, "total": {"0"}, "companyId": {"c1"}},
			want: &Page[Invoice]{Content: []Invoice{{ID: "i1", Total: MustParseAmount("9985.96"), Status: InvoiceNothingDue, InvoiceDate: Date{2025, 2, 1}, DueDate: Date{2025, 2, 15}}}, Page: PageInfo{Size: 10, TotalElements: 1, TotalPages: 1}},
		},
		{
			name:   "invoices get",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Invoices.Get(ctx, "i1") },
			reply:  `{"id":"i1","balance":560470.66,"currencyCode":"USD"}`,
			method: "GET", path: "/v1/invoices/i1", query: url.Values{},
			want: &Invoice{ID: "i1", Balance: MustParseAmount("560470.66"), CurrencyCode: "USD"},
		},
		{
			name: "invoices items",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Invoices.Items(ctx, "i1", &ListOptions{Page: 1, Size: 50})
			},
			reply:  `{"content":[{"type":"subscription","rateType":"Flat","chargeType":"per","startPeriod":"2019-04-01","quantity":11,"billedByPax8":true}],"page":{"size":50,"totalElements":51,"totalPages":2,"number":1}}`,
			method: "GET", path: "/v1/invoices/i1/items", query: url.Values{"page": {"1"}, "size": {"50"}},
			want: &Page[InvoiceItem]{Content: []InvoiceItem{{Type: "subscription", RateType: RateFlat, ChargeType: "per", StartPeriod: Date{2019, 4, 1}, Quantity: 11, BilledByPax8: true}},
				Page: PageInfo{Size: 50, TotalElements: 51, TotalPages: 2, Number: 1}},
		},
		{
			name: "invoices draft items",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Invoices.DraftItems(ctx, &DraftItemListOptions{MonthOffset: &offset, CompanyID: "c1"})
			},
			reply:  `{"content":[{"type":"subscription","salesTax":8}],"page":{"size":10,"totalElements":1,"totalPages":1,"number":0}}`,
			method: "GET", path: "/v1/invoices/draftItems", query: url.Values{"monthOffset": {"0"}, "companyId": {"c1"}},
			want: &Page[InvoiceItem]{Content: []InvoiceItem{{Type: "subscription", SalesTax: AmountFromInt(8)}}, Page: PageInfo{Size: 10, TotalElements: 1, TotalPages: 1}},
		},
		{
			name: "usage summaries for a subscription",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UsageSummaries.ListForSubscription(ctx, "s1", &UsageSummaryListOptions{ResourceGroup: "Company 1", ListOptions: ListOptions{Sort: "partnerTotal"}})
			},
			reply:  `{"content":[{"id":"u1","resourceGroup":"Company 1","currentCharges":100.56,"partnerTotal":86.456}],"page":{"size":10,"totalElements":1,"totalPages":1,"number":0}}`,
			method: "GET", path: "/v1/subscriptions/s1/usage-summaries", query: url.Values{"resourceGroup": {"Company 1"}, "sort": {"partnerTotal"}},
			want: &Page[UsageSummary]{Content: []UsageSummary{{ID: "u1", ResourceGroup: "Company 1", CurrentCharges: MustParseAmount("100.56"), PartnerTotal: MustParseAmount("86.456")}}, Page: PageInfo{Size: 10, TotalElements: 1, TotalPages: 1}},
		},
		{
			name:   "usage summary get",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.UsageSummaries.Get(ctx, "u1") },
			reply:  `{"id":"u1","isTrial":true}`,
			method: "GET", path: "/v1/usage-summaries/u1", query: url.Values{},
			want: &UsageSummary{ID: "u1", IsTrial: true},
		},
		{
			name: "usage lines",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UsageSummaries.Lines(ctx, "u1", &UsageLineListOptions{UsageDate: Date{2020, 1, 14}, ProductID: "p1", ListOptions: ListOptions{Size: 100}})
			},
			reply:  `{"content":[{"usageDate":"2020-01-14","quantity":3.5,"unitPrice":"5.33"}],"page":{"size":100,"totalElements":1,"totalPages":1,"number":0}}`,
			method: "GET", path: "/v1/usage-summaries/u1/usage-lines", query: url.Values{"usageDate": {"2020-01-14"}, "productId": {"p1"}, "size": {"100"}},
			want: &Page[UsageLine]{Content: []UsageLine{{UsageDate: Date{2020, 1, 14}, Quantity: 3.5, UnitPrice: MustParseAmount("5.33")}}, Page: PageInfo{Size: 100, TotalElements: 1, TotalPages: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEchoServer(t)
			status := tt.status
			if status == 0 {
				status = http.StatusOK
			}
			srv.reply(status, tt.reply)
			got, err := tt.call(t.Context(), srv.client(WithUserAgent("grantd-test")))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path {
				t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, tt.method, tt.path)
			}
			if diff := cmp.Diff(tt.query, r.Query, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			if got, want := r.Header.Get("User-Agent"), "grantd-test"; got != want {
				t.Errorf("User-Agent = %q, want %q", got, want)
			}
			if tt.body == "" {
				if r.Body != "" {
					t.Errorf("body = %s, want none", r.Body)
				}
			} else {
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
				var gotBody, wantBody any
				if err := json.Unmarshal([]byte(r.Body), &gotBody); err != nil {
					t.Fatalf("request body %q: %v", r.Body, err)
				}
				if err := json.Unmarshal([]byte(tt.body), &wantBody); err != nil {
					t.Fatalf("want body: %v", err)
				}
				if diff := cmp.Diff(wantBody, gotBody); diff != "" {
					t.Errorf("request body (-want +got):\n%s", diff)
				}
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got, timeEqual); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// timeEqual compares Times as instants, so that zones need not be the
// same *time.Location.
var timeEqual = cmp.Comparer(func(a, b Time) bool { return a.Equal(b.Time) })

// TestInvalidIDs covers SEC-40: an id can never change which resource a
// request addresses. Ids that would be dot-segments or empty are refused
// without a request; others are escaped into one path segment.
func TestInvalidIDs(t *testing.T) {
	srv := newEchoServer(t)
	c := srv.client()
	for _, id := range []string{"", ".", "..", " "} {
		if _, err := c.Companies.Get(t.Context(), id); err == nil {
			t.Errorf("Companies.Get(%q) succeeded, want an error", id)
		}
		if err := c.Contacts.Delete(t.Context(), "c1", id); err == nil {
			t.Errorf("Contacts.Delete(c1, %q) succeeded, want an error", id)
		}
		for _, err := range c.Invoices.AllItems(t.Context(), id, nil) {
			if err == nil {
				t.Errorf("Invoices.AllItems(%q) yielded an item, want an error", id)
			}
		}
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("server saw %d requests for invalid ids, want 0", n)
	}
	srv.reply(http.StatusOK, `{}`)
	for _, id := range []string{"../orders", "x/../../y", "%2e%2e", "a#b", "a b"} {
		if _, err := c.Subscriptions.Get(t.Context(), id); err != nil {
			t.Fatalf("Subscriptions.Get(%q): %v", id, err)
		}
		reqs := srv.requests()
		got := reqs[len(reqs)-1].Path
		want := "/v1/subscriptions/" + url.PathEscape(id)
		if got != want {
			t.Errorf("Subscriptions.Get(%q) path = %q, want %q", id, got, want)
		}
	}
}

func TestClientSideValidation(t *testing.T) {
	srv := newEchoServer(t)
	c := srv.client()
	ctx := t.Context()
	checks := []struct {
		name string
		err  error
	}{
		{"empty subscription update", func() error {
			_, err := c.Subscriptions.Update(ctx, "s1", &SubscriptionUpdate{CurrencyCode: "USD"})
			return err
		}()},
		{"nil subscription update", func() error { _, err := c.Subscriptions.Update(ctx, "s1", nil); return err }()},
		{"empty company update", func() error { _, err := c.Companies.Update(ctx, "c1", &CompanyUpdate{}); return err }()},
		{"company without name", func() error { _, err := c.Companies.Create(ctx, &Company{}); return err }()},
		{"order without lines", func() error { _, err := c.Orders.Create(ctx, &OrderCreate{CompanyID: "c1"}, false); return err }()},
		{"bad base URL", func() error {
			_, err := NewClient(nil, WithBaseURL("::not a url")).Companies.Get(ctx, "c1")
			return err
		}()},
	}
	for _, ch := range checks {
		if ch.err == nil {
			t.Errorf("%s: got nil error, want one", ch.name)
		}
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}
