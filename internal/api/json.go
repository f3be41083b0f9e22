package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxBody bounds every JSON request body.
const maxBody = 1 << 20

// Header values shared by every response; net/http never modifies them.
var (
	contentTypeJSON = []string{"application/json"}
	noStore         = []string{"no-store"}
	nosniff         = []string{"nosniff"}
)

// writeJSON writes v as JSON with status. It is for the ordinary routes;
// the token route writes its body by hand.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header()["Content-Type"] = contentTypeJSON
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// RequireJSON returns a 415 [Error] unless r's body is declared
// application/json or not declared at all. Every route that reads a JSON
// body calls it, so that they all answer a wrong Content-Type alike.
func RequireJSON(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// Media types are case-insensitive and may carry parameters
		// (RFC 9110 §8.3.1); "application/jsonx" is not JSON.
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, codeInvalidRequest, "the body must be JSON sent with Content-Type: application/json (curl -d needs -H 'Content-Type: application/json')")
		}
	}
	return nil
}

// decode reads r's JSON body into v strictly: application/json (or no
// content type), at most 1 MiB, no unknown fields, one value.
func decode(r *http.Request, v any) error {
	if err := RequireJSON(r); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		status, code := http.StatusBadRequest, codeInvalidRequest
		if _, big := errors.AsType[*http.MaxBytesError](err); big {
			// The same answer the proxy gives an oversized body.
			status, code = http.StatusRequestEntityTooLarge, "request_too_large"
		}
		return &Error{Status: status, Code: code, Msg: decodeMessage(err), Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "the body must hold a single JSON object")
	}
	return nil
}

// decodeMessage says what is wrong with a body in words a caller can act
// on, without echoing the body.
func decodeMessage(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var big *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty; a JSON object is required"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is truncated JSON"
	case errors.As(err, &syn):
		return fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()))
		}
		return "the body must be a JSON object"
	case errors.As(err, &big):
		return fmt.Sprintf("the body is larger than %d bytes", maxBody)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "the body cannot be decoded as JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	}
	return "number"
}

type buffer struct{ b []byte }

var bufPool = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 1024)} }}

func getBuf() *buffer { return bufPool.Get().(*buffer) }

func putBuf(b *buffer) {
	if cap(b.b) <= 64<<10 {
		bufPool.Put(b)
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping what RFC 8259 requires
// and <, >, & as encoding/json does, and replacing invalid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
