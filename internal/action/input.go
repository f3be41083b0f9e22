package action

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/grantd/grantd/internal/httpapi"
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
// {}), as [httpapi.Unmarshal] requires (no unknown, duplicate or wrongly
// cased field at any depth, JSON types matching v's, no NUL or invalid
// UTF-8 in any string), then the tag rules of [validate].
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
	if err := httpapi.Unmarshal(raw, v); err != nil {
		return decodeError(err)
	}
	return validate(reflect.ValueOf(v).Elem())
}

// decodeError is the [InputError] for an [httpapi.Unmarshal] error: the
// field as a dotted path ("company.address.city") and what is wrong.
func decodeError(err error) error {
	e, ok := errors.AsType[*httpapi.Error](err)
	if !ok || len(e.Details) == 0 {
		return &InputError{Msg: "the input cannot be decoded"}
	}
	d := e.Details[0]
	field := strings.ReplaceAll(strings.TrimPrefix(d.Field, "/"), "/", ".")
	if d.Reason == httpapi.ReasonUnknownField {
		// An unknown field is named by itself, as before: "bogus".
		field = field[strings.LastIndexByte(field, '.')+1:]
	}
	field = strings.ReplaceAll(strings.ReplaceAll(field, "~1", "/"), "~0", "~")
	if field == "" {
		return &InputError{Msg: "the input " + d.Message}
	}
	return &InputError{Field: field, Msg: d.Message}
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
