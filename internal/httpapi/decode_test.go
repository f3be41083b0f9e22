package httpapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/httpapi"
)

type inner struct {
	City string `json:"city"`
}

type request struct {
	Name    string    `json:"name"`
	Count   int       `json:"count"`
	Tags    []string  `json:"tags"`
	Address *inner    `json:"address"`
	At      time.Time `json:"at"`
	Extra   any       `json:"extra"`
}

// TestUnmarshalStrict covers each refusal of the strict decoder: every one
// is a 400 invalid_request whose detail names the field by JSON Pointer
// and the kind of problem.
func TestUnmarshalStrict(t *testing.T) {
	for _, tc := range []struct {
		name, body  string
		wantField   string
		wantReason  string
		wantMessage string
	}{
		{"UnknownField", `{"name":"a","nmae":"b"}`, "/nmae", httpapi.ReasonUnknownField, `unknown field "nmae"`},
		{"WrongCaseField", `{"Name":"a"}`, "/Name", httpapi.ReasonUnknownField, "case-sensitive"},
		{"WrongCaseNested", `{"address":{"City":"x"}}`, "/address/City", httpapi.ReasonUnknownField, `"address/City"`},
		{"DuplicateField", `{"name":"a","name":"b"}`, "/name", httpapi.ReasonDuplicateField, `field "name" appears more than once`},
		{"DuplicateNested", `{"address":{"city":"a","city":"b"}}`, "/address/city", httpapi.ReasonDuplicateField, "more than once"},
		{"NULInString", `{"name":"a\u0000b"}`, "/name", httpapi.ReasonNUL, "NUL"},
		{"NULInArray", `{"tags":["ok","\u0000"]}`, "/tags/1", httpapi.ReasonNUL, "NUL"},
		{"NULInAny", `{"extra":{"k":"\u0000"}}`, "/extra/k", httpapi.ReasonNUL, "NUL"},
		{"NULInName", `{"extra":{"a\u0000":1}}`, "/extra/a\x00", httpapi.ReasonNUL, "NUL"},
		{"InvalidUTF8Raw", "{\"name\":\"a\xffb\"}", "", httpapi.ReasonInvalidUTF8, "UTF-8"},
		{"InvalidUTF8Surrogate", `{"name":"\ud800"}`, "/name", httpapi.ReasonInvalidUTF8, "UTF-8"},
		{"WrongType", `{"count":"3"}`, "/count", httpapi.ReasonWrongType, `field "count" must be a JSON integer`},
		{"WrongTypeObject", `[]`, "", httpapi.ReasonWrongType, "object"},
		{"FractionForInteger", `{"count":1.5}`, "/count", httpapi.ReasonWrongType, `field "count" must be a JSON integer`},
		{"BadTime", `{"at":"yesterday"}`, "/at", httpapi.ReasonInvalidValue, `field "at" is not a valid value`},
		{"Syntax", `{"name":}`, "", httpapi.ReasonSyntax, "not valid JSON"},
		{"Truncated", `{"name":"a"`, "", httpapi.ReasonSyntax, "truncated"},
		{"Trailing", `{"name":"a"}{}`, "", httpapi.ReasonSyntax, "single JSON object"},
		{"Empty", ``, "", httpapi.ReasonSyntax, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v request
			err := httpapi.Unmarshal([]byte(tc.body), &v)
			e, ok := errors.AsType[*httpapi.Error](err)
			if !ok {
				t.Fatalf("Unmarshal(%q) = %v, want an *httpapi.Error", tc.body, err)
			}
			if e.Code != httpapi.CodeInvalidRequest || httpapi.StatusOf(e) != http.StatusBadRequest {
				t.Errorf("Unmarshal(%q): code %q status %d, want invalid_request 400", tc.body, e.Code, httpapi.StatusOf(e))
			}
			if len(e.Details) != 1 || e.Details[0].Field != tc.wantField || e.Details[0].Reason != tc.wantReason {
				t.Errorf("Unmarshal(%q): details %+v, want field %q reason %q", tc.body, e.Details, tc.wantField, tc.wantReason)
			}
			if !strings.Contains(e.Message, tc.wantMessage) {
				t.Errorf("Unmarshal(%q): message %q, want it to contain %q", tc.body, e.Message, tc.wantMessage)
			}
		})
	}
}

func TestUnmarshalAccepts(t *testing.T) {
	var got request
	body := `{"name":"é \"q\" \\u0000","count":3,"tags":["a"],"address":{"city":"Lyon"},"at":"2026-01-02T03:04:05Z","extra":{"x":[1,"y"]}}`
	if err := httpapi.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	want := request{Name: `é "q" \u0000`, Count: 3, Tags: []string{"a"}, Address: &inner{City: "Lyon"},
		At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Extra: map[string]any{"x": []any{1.0, "y"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Unmarshal (-want +got):\n%s", diff)
	}
}

// TestDecodeContentTypeAndSize: a declared non-JSON body is 415, a body
// over the limit 413, an empty one allowed only when the Decoder says so.
func TestDecodeContentTypeAndSize(t *testing.T) {
	req := func(ct, body string) *http.Request {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	var v request
	for _, tc := range []struct {
		d          httpapi.Decoder
		ct, body   string
		wantStatus int
	}{
		{httpapi.Decoder{}, "application/json", `{"name":"a"}`, 0},
		{httpapi.Decoder{}, "", `{"name":"a"}`, 0},
		{httpapi.Decoder{}, "Application/JSON; charset=utf-8", `{"name":"a"}`, 0},
		{httpapi.Decoder{}, "text/plain", `{"name":"a"}`, http.StatusUnsupportedMediaType},
		{httpapi.Decoder{}, "application/jsonx", `{"name":"a"}`, http.StatusUnsupportedMediaType},
		{httpapi.Decoder{}, "application/x-www-form-urlencoded", `name=a`, http.StatusUnsupportedMediaType},
		{httpapi.Decoder{MaxBytes: 10}, "application/json", `{"name":"abcdefgh"}`, http.StatusRequestEntityTooLarge},
		{httpapi.Decoder{}, "application/json", ``, http.StatusBadRequest},
		{httpapi.Decoder{AllowEmpty: true}, "application/json", ``, 0},
	} {
		err := tc.d.Decode(req(tc.ct, tc.body), &v)
		got := 0
		if err != nil {
			got = httpapi.StatusOf(err)
		}
		if got != tc.wantStatus {
			t.Errorf("%+v.Decode(%q, %q) = %v (status %d), want status %d", tc.d, tc.ct, tc.body, err, got, tc.wantStatus)
		}
	}
}
