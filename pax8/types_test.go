package pax8

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLiveQuirksDecode decodes samples in the forms the live API has been
// seen to use (provider-facts §1.9), next to the documented forms.
func TestLiveQuirksDecode(t *testing.T) {
	mdt := time.FixedZone("", -6*3600)
	t.Run("subscription commitment vs commitmentTerm", func(t *testing.T) {
		for _, body := range []string{
			`{"id":"s1","commitment":{"id":"t1","term":"Annual","endDate":"2026-01-01"}}`,
			`{"id":"s1","commitmentTerm":{"id":"t1","term":"Annual","endDate":"2026-01-01T00:00:00Z"}}`,
		} {
			var got Subscription
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", body, err)
			}
			want := Subscription{ID: "s1", CommitmentTerm: &SubscriptionCommitment{ID: "t1", Term: "Annual", EndDate: Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}}
			if diff := cmp.Diff(want, got, timeEqual); diff != "" {
				t.Errorf("Unmarshal(%s) (-want +got):\n%s", body, diff)
			}
		}
	})
	t.Run("orderedBy spellings", func(t *testing.T) {
		for _, in := range []string{`"Pax8Partner"`, `"Pax8 Partner"`, `"pax8partner"`} {
			var got OrderedBy
			if err := json.Unmarshal([]byte(in), &got); err != nil || got != OrderedByPax8Partner {
				t.Errorf("Unmarshal(%s) = %q, %v; want %q", in, got, err, OrderedByPax8Partner)
			}
		}
		b, _ := json.Marshal(OrderCreate{OrderedBy: OrderedByPax8Partner})
		if want := `{"companyId":"","orderedBy":"Pax8 Partner","lineItems":null}`; string(b) != want {
			t.Errorf("Marshal = %s, want %s", b, want)
		}
	})
	t.Run("rateType capitalised", func(t *testing.T) {
		for in, want := range map[string]RateType{`"Flat"`: RateFlat, `"single"`: RateSingle, `"Tiered"`: RateTiered, `"markup (Percentage based markup over to be determined base cost)"`: RateMarkup} {
			var got RateType
			if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
				t.Errorf("Unmarshal(%s) = %q, %v; want %q", in, got, err, want)
			}
		}
	})
	t.Run("timestamps", func(t *testing.T) {
		tests := map[string]time.Time{
			`"2023-08-11T11:33:12.314-0600"`:  time.Date(2023, 8, 11, 11, 33, 12, 314e6, mdt),
			`"2023-08-11T11:33:12.314-06:00"`: time.Date(2023, 8, 11, 11, 33, 12, 314e6, mdt),
			`"2021-01-01T08:30:00Z"`:          time.Date(2021, 1, 1, 8, 30, 0, 0, time.UTC),
			`"2000-10-31T01:30:00.000-05:00"`: time.Date(2000, 10, 31, 6, 30, 0, 0, time.UTC),
			`"2020-12-03"`:                    time.Date(2020, 12, 3, 0, 0, 0, 0, time.UTC),
			`"2020-12-03T10:00:00"`:           time.Date(2020, 12, 3, 10, 0, 0, 0, time.UTC),
			`null`:                            {},
			`""`:                              {},
		}
		for in, want := range tests {
			var got Time
			if err := json.Unmarshal([]byte(in), &got); err != nil || !got.Equal(want) {
				t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, got, err, want)
			}
		}
		var bad Time
		if err := json.Unmarshal([]byte(`"yesterday"`), &bad); err == nil {
			t.Error(`Unmarshal("yesterday") succeeded, want an error`)
		}
	})
	t.Run("dates", func(t *testing.T) {
		for in, want := range map[string]Date{`"2025-02-01"`: {2025, 2, 1}, `"2025-02-01T23:30:00-0700"`: {2025, 2, 1}, `null`: {}} {
			var got Date
			if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
				t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, got, err, want)
			}
		}
	})
	t.Run("numbers as strings", func(t *testing.T) {
		var got Invoice
		body := `{"id":"i1","total":"9985.96","balance":729.22,"carriedBalance":""}`
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		if diff := cmp.Diff(Invoice{ID: "i1", Total: MustParseAmount("9985.96"), Balance: MustParseAmount("729.22")}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		var n Number
		if err := json.Unmarshal([]byte(`"12abc"`), &n); err == nil {
			t.Error(`Unmarshal("12abc") succeeded, want an error`)
		}
	})
	t.Run("contact phone fields and commitmentTermID", func(t *testing.T) {
		var ct Contact
		if err := json.Unmarshal([]byte(`{"firstName":"Jo","phoneNumber":"5551234","phoneCountryCode":"US","phoneCountryCallingcode":"1"}`), &ct); err != nil {
			t.Fatal(err)
		}
		if ct.PhoneNumber != "5551234" || ct.PhoneCountryCode != "US" || ct.PhoneCountryCallingCode != "1" {
			t.Errorf("phone fields = %+v", ct)
		}
		var li LineItem
		if err := json.Unmarshal([]byte(`{"commitmentTermID":"t1"}`), &li); err != nil || li.CommitmentTermID != "t1" {
			t.Errorf("commitmentTermID decoded as %q, %v; want t1", li.CommitmentTermID, err)
		}
	})
	t.Run("spec paged example", func(t *testing.T) {
		body := `{"content":[{"id":"09ac6f1d","quantity":5,"startDate":"2021-01-01T08:30:00Z","createdDate":"2020-12-03","billingStart":"2021-01-01","status":"PendingAutomated","price":150,"currencyCode":"USD","billingTerm":"Monthly"},
			{"id":"e8f372b6","quantity":1,"endDate":"2020-11-18","status":"PendingCancel","price":100}],"page":{"size":10,"totalElements":2,"totalPages":1,"number":0}}`
		var p Page[Subscription]
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		if got := p.Content[1].EndDate.Time; !got.Equal(time.Date(2020, 11, 18, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("endDate = %v", got)
		}
		if p.HasNext() {
			t.Error("HasNext() = true on the only page")
		}
	})
}

func TestRequestEncoding(t *testing.T) {
	u := SubscriptionUpdate{StartDate: Time{time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)}}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"startDate":"2026-02-01T09:00:00.000Z"}`; string(b) != want {
		t.Errorf("Marshal(SubscriptionUpdate) = %s, want %s", b, want)
	}
	c := Company{Name: "Acme"}
	b, _ = json.Marshal(c)
	want := `{"name":"Acme","address":{},"billOnBehalfOfEnabled":false,"selfServiceAllowed":false,"orderApprovalRequired":false}`
	if string(b) != want {
		t.Errorf("Marshal(Company) = %s, want %s (read-only fields omitted, booleans kept)", b, want)
	}
}
