package action

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
)

// InputError is invalid action input: the request never leaves grantd.
// Field names the offending property ("" when the body as a whole is
// wrong); Msg is safe to show and never echoes the input.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return "invalid input: " + e.Msg
	}
	return fmt.Sprintf("invalid input: field %q: %s", e.Field, e.Msg)
}

// maxInput bounds an action's JSON input.
const maxInput = 1 << 20

// decodeInput decodes raw strictly into v: one JSON object (empty means
// {}), no unknown fields at any depth, JSON types matching v's, then the
// tag rules of [validate].
func decodeInput(raw []byte, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	if len(raw) > maxInput {
		return &InputError{Msg: fmt.Sprintf("the input is larger than %d bytes", maxInput)}
	}
	if raw[0] != '{' {
		return &InputError{Msg: "the input must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &InputError{Msg: "the input must be a single JSON object"}
	}
	return validate(reflect.ValueOf(v).Elem())
}

func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		return &InputError{Field: jsonPath(typ.Field), Msg: "must be a JSON " + jsonKind(typ.Type)}
	case errors.As(err, &syn):
		return &InputError{Msg: fmt.Sprintf("not valid JSON (at byte %d)", syn.Offset)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &InputError{Field: name, Msg: "unknown field"}
	}
	// Errors from the pax8 types' own decoders (a malformed date, say)
	// describe the value, never echo it whole.
	return &InputError{Msg: err.Error()}
}

// jsonPath drops the Go names of embedded structs (such as "Paging") from
// a decoder's field path, leaving the JSON property names.
func jsonPath(p string) string {
	var keep []string
	for seg := range strings.SplitSeq(p, ".") {
		if seg != "" && !unicode.IsUpper(rune(seg[0])) {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, ".")
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// validate applies the required, min and max tags of v's top-level fields
// (embedded structs included). A required field must be present and not
// empty; bounds apply to integers that are set.
func validate(v reflect.Value) error {
	for _, f := range fields(v.Type()) {
		fv := v.FieldByIndex(f.index)
		if f.required && (fv.IsZero() || (fv.Kind() == reflect.String && strings.TrimSpace(fv.String()) == "")) {
			return &InputError{Field: f.name, Msg: "is required"}
		}
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		if !fv.CanInt() {
			continue
		}
		n := fv.Int()
		if f.min != nil && n < int64(*f.min) || f.max != nil && n > int64(*f.max) {
			return &InputError{Field: f.name, Msg: boundsMsg(f.min, f.max)}
		}
	}
	return nil
}

func boundsMsg(lo, hi *int) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("must be between %d and %d", *lo, *hi)
	case lo != nil:
		return fmt.Sprintf("must be at least %d", *lo)
	default:
		return fmt.Sprintf("must be at most %d", *hi)
	}
}
