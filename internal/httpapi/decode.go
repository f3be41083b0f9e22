package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DefaultMaxBody bounds a JSON request body unless a [Decoder] says
// otherwise.
const DefaultMaxBody = 1 << 20

// RequireJSON returns a 415 [Error] unless r's body is declared
// application/json or not declared at all (as the OpenAPI document says).
// Media types are case-insensitive and may carry parameters (RFC 9110
// §8.3.1); "application/jsonx" is not JSON.
func RequireJSON(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errNotJSON
		}
	}
	return nil
}

var errNotJSON = &Error{Status: http.StatusUnsupportedMediaType, Code: CodeInvalidRequest,
	Message: "the body must be JSON sent with Content-Type: application/json (curl -d needs -H 'Content-Type: application/json')"}

// Decoder reads JSON request bodies strictly. MaxBytes bounds the body
// (default [DefaultMaxBody]); a larger one is a 413 request_too_large.
// AllowEmpty lets an empty body through, leaving v untouched. The zero
// Decoder is ready to use.
type Decoder struct {
	MaxBytes   int64
	AllowEmpty bool
}

// Decode is [Decoder.Decode] with the default limits.
func Decode(r *http.Request, v any) error { return Decoder{}.Decode(r, v) }

// Decode reads r's body into v: the Content-Type must be application/json
// or absent (else 415), the body at most MaxBytes (else 413), and the JSON
// as [Unmarshal] requires (else 400 invalid_request, with a [Detail]).
func (d Decoder) Decode(r *http.Request, v any) error {
	if err := RequireJSON(r); err != nil {
		return err
	}
	max := d.MaxBytes
	if max <= 0 {
		max = DefaultMaxBody
	}
	var data []byte
	if r.Body != nil {
		var err error
		data, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
		if big, ok := errors.AsType[*http.MaxBytesError](err); ok {
			// The same answer the proxy gives an oversized body.
			return &Error{Code: CodeRequestTooLarge, Message: fmt.Sprintf("the body is larger than %d bytes", big.Limit), Err: err}
		}
		if err != nil {
			return &Error{Code: CodeInvalidRequest, Message: "the request body could not be read", Err: err}
		}
	}
	if d.AllowEmpty && len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	return Unmarshal(data, v)
}

// Unmarshal decodes data, one JSON value, into v strictly, and returns an
// [*Error] (400 invalid_request, with one [Detail] whose Field is a JSON
// Pointer) for the first problem:
//
//   - data is not exactly one JSON value (syntax, trailing data, empty);
//   - a string, or an object member name, is not valid UTF-8 (also through
//     \u escapes: a lone surrogate) or holds a NUL (\u0000), which no
//     field of the API accepts and which PostgreSQL cannot store;
//   - an object has the same member name twice (RFC 8259 §4 leaves that
//     undefined; we refuse it, as RFC 7493 I-JSON does);
//   - a member name matches no field of v exactly: names are
//     case-sensitive, so "Name" is not "name";
//   - a value has the wrong JSON type for its field.
//
// It uses github.com/go-json-experiment/json (the encoding/json/v2
// candidate), which is case-sensitive, refuses duplicate names and
// invalid UTF-8 by default, and reports where a problem is as a JSON
// Pointer; encoding/json matches names case-insensitively, lets the last
// duplicate win and replaces invalid UTF-8, and none of that can be turned
// off. A token pass over the input first finds the NULs, whatever type the
// string goes into (including types with their own UnmarshalJSON). Types'
// UnmarshalJSON methods are honoured.
func Unmarshal(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return bodyError("", ReasonSyntax, "is empty; a JSON value is required", nil)
	}
	if !utf8.Valid(data) {
		return bodyError("", ReasonInvalidUTF8, "is not valid UTF-8", nil)
	}
	if err := scan(data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v, json.RejectUnknownMembers(true)); err != nil {
		return unmarshalError(err)
	}
	return nil
}

// scan checks the syntax of data token by token: one value, valid UTF-8,
// no duplicate names, and no NUL in any string.
func scan(data []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return syntaxError(err)
		}
		if tok.Kind() == '"' && strings.IndexByte(tok.String(), 0) >= 0 {
			return bodyError(string(dec.StackPointer()), ReasonNUL, "must not contain NUL bytes (\\u0000)", nil)
		}
		if dec.StackDepth() == 0 {
			break
		}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return bodyError("", ReasonSyntax, "must hold a single JSON object", err)
	}
	return nil
}

func syntaxError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return bodyError("", ReasonSyntax, "is truncated JSON", err)
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		ptr := string(se.JSONPointer)
		switch {
		case errors.Is(se.Err, jsontext.ErrDuplicateName):
			return bodyError(ptr, ReasonDuplicateField, "appears more than once", err)
		case se.Err != nil && strings.Contains(se.Err.Error(), "UTF-8"), se.Err != nil && strings.Contains(se.Err.Error(), "surrogate"):
			return bodyError(ptr, ReasonInvalidUTF8, "is not valid UTF-8", err)
		}
		return bodyError("", ReasonSyntax, fmt.Sprintf("is not valid JSON (at byte %d)", se.ByteOffset), err)
	}
	return bodyError("", ReasonSyntax, "is not valid JSON", err)
}

func unmarshalError(err error) error {
	var se *json.SemanticError
	if !errors.As(err, &se) {
		return syntaxError(err)
	}
	ptr := string(se.JSONPointer)
	switch {
	case errors.Is(se.Err, json.ErrUnknownName):
		e := bodyError(ptr, ReasonUnknownField, "is not a field of this request (field names are case-sensitive)", err)
		e.Message = "unknown field " + quoteLast(ptr) + " (field names are case-sensitive)"
		return e
	case se.GoType != nil && (se.Err == nil || se.JSONKind == '0' && isInt(se.GoType.Kind().String())):
		return bodyError(ptr, ReasonWrongType, "must be a JSON "+kindOf(se.GoType.Kind().String()), err)
	case se.Err != nil:
		// A type's own parser refused the value (a malformed date, say);
		// its message may quote the input, so it is only logged.
		return bodyError(ptr, ReasonInvalidValue, "is not a valid value for this field", err)
	}
	return bodyError(ptr, ReasonWrongType, "has the wrong type", err)
}

// bodyError is the 400 for a problem with the value at JSON Pointer ptr
// ("" for the body as a whole); problem is said of that value.
func bodyError(ptr, reason, problem string, cause error) *Error {
	return &Error{Code: CodeInvalidRequest, Message: describe(ptr) + " " + problem, Field: ptr,
		Details: []Detail{{Field: ptr, Reason: reason, Message: problem}}, Err: cause}
}

// describe names the value at JSON Pointer ptr for a message.
func describe(ptr string) string {
	if ptr == "" {
		return "the body"
	}
	return "field " + quoteLast(ptr)
}

// quoteLast quotes ptr without its leading slash, unescaped (RFC 6901 §4):
// "/organizations/0/name" gives "organizations/0/name".
func quoteLast(ptr string) string {
	p := strings.TrimPrefix(ptr, "/")
	p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	return fmt.Sprintf("%q", p)
}

func isInt(goKind string) bool { return kindOf(goKind) == "integer" }

func kindOf(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	}
	return "number"
}
