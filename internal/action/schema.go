package action

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/grantd/grantd/pax8"
)

// Schema is a JSON Schema (draft 2020-12 subset) as a JSON-ready value.
type Schema map[string]any

var (
	timeType   = reflect.TypeFor[pax8.Time]()
	dateType   = reflect.TypeFor[pax8.Date]()
	numberType = reflect.TypeFor[pax8.Number]()
	amountType = reflect.TypeFor[pax8.Amount]()
)

// SchemaOf reflects the JSON Schema of t's JSON encoding. Struct fields
// follow their json tags; the tags desc (a description), required:"true",
// min and max add to it. Pax8's Time and Date are strings with the
// date-time and date formats, its Number is a number, and its Amount
// (money) is a number with the "decimal" format. With strict set,
// objects refuse properties they do not declare, as inputs do.
func SchemaOf(t reflect.Type, strict bool) Schema {
	return schemaOf(t, strict, 0)
}

func schemaOf(t reflect.Type, strict bool, depth int) Schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return Schema{"type": "string", "format": "date-time"}
	case dateType:
		return Schema{"type": "string", "format": "date"}
	case numberType:
		return Schema{"type": "number"}
	case amountType:
		// Money is a JSON number in and out, never a string, with the
		// decimal format: its digits are exact and a caller should read it
		// as a decimal, not a binary float (see pax8.Amount).
		return Schema{"type": "number", "format": "decimal"}
	}
	if depth > 8 {
		return Schema{}
	}
	switch t.Kind() {
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.Slice, reflect.Array:
		return Schema{"type": "array", "items": schemaOf(t.Elem(), strict, depth+1)}
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": schemaOf(t.Elem(), strict, depth+1)}
	case reflect.Struct:
		props := Schema{}
		var required []string
		for _, f := range fields(t) {
			s := schemaOf(f.typ, strict, depth+1)
			if f.desc != "" {
				s["description"] = f.desc
			}
			if f.min != nil {
				s["minimum"] = *f.min
			}
			if f.max != nil {
				s["maximum"] = *f.max
			}
			props[f.name] = s
			if f.required {
				required = append(required, f.name)
			}
		}
		out := Schema{"type": "object", "properties": props}
		if len(required) > 0 {
			out["required"] = required
		}
		if strict {
			out["additionalProperties"] = false
		}
		return out
	}
	return Schema{}
}

// field is one JSON property of a struct, with its validation tags.
type field struct {
	name     string
	index    []int
	typ      reflect.Type
	desc     string
	required bool
	min, max *int
}

// fields lists t's JSON properties in order, flattening embedded structs
// the way encoding/json does (outer fields win).
func fields(t reflect.Type) []field {
	var out []field
	seen := map[string]bool{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		var embedded []reflect.StructField
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" {
				embedded = append(embedded, sf)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			f := field{
				name:     name,
				index:    append(append([]int(nil), index...), i),
				typ:      sf.Type,
				desc:     sf.Tag.Get("desc"),
				required: sf.Tag.Get("required") == "true",
				min:      intTag(sf.Tag.Get("min")),
				max:      intTag(sf.Tag.Get("max")),
			}
			out = append(out, f)
		}
		for _, sf := range embedded {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				walk(et, append(append([]int(nil), index...), sf.Index...))
			}
		}
	}
	walk(t, nil)
	return out
}

func intTag(s string) *int {
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic("action: bad integer tag " + strconv.Quote(s))
	}
	return &n
}
