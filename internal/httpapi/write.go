package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"unicode/utf8"
)

// Header values shared by every response; net/http never modifies them.
var (
	contentTypeJSON = []string{"application/json"}
	noStore         = []string{"no-store"}
	nosniff         = []string{"nosniff"}
)

// WriteJSON writes v as JSON with status and Content-Type:
// application/json, followed by a newline. A value that cannot be encoded
// is an internal error, returned before anything is written.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return WriteRaw(w, status, append(b, '\n'))
}

// WriteRaw writes b, already JSON, with status and Content-Type:
// application/json.
func WriteRaw(w http.ResponseWriter, status int, b []byte) error {
	w.Header()["Content-Type"] = contentTypeJSON
	w.WriteHeader(status)
	_, err := w.Write(b)
	return err
}

// NoStore sets Cache-Control: no-store, for responses that show a secret
// or per-caller state (RFC 9111 §5.2.2.5).
func NoStore(w http.ResponseWriter) { w.Header()["Cache-Control"] = noStore }

// Buffer is a pooled byte slice for handlers that write their JSON by hand
// on a hot path; get one with [GetBuffer] and return it with
// [PutBuffer].
type Buffer struct{ B []byte }

var bufPool = sync.Pool{New: func() any { return &Buffer{B: make([]byte, 0, 1024)} }}

// GetBuffer returns an empty pooled buffer.
func GetBuffer() *Buffer {
	b := bufPool.Get().(*Buffer)
	b.B = b.B[:0]
	return b
}

// PutBuffer returns b to the pool, unless it grew past 64 KiB.
func PutBuffer(b *Buffer) {
	if cap(b.B) <= 64<<10 {
		bufPool.Put(b)
	}
}

func getBuf() *Buffer  { return GetBuffer() }
func putBuf(b *Buffer) { PutBuffer(b) }

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaping what RFC 8259 requires
// and <, >, & as encoding/json does, and replacing invalid UTF-8.
func AppendString(b []byte, s string) []byte {
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
