package oauthx

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// minSecret is the shortest secret redacted: shorter values (a test's "s")
// would blank out ordinary words.
const minSecret = 4

// redactor replaces, in a provider's text, every form in which the secrets
// of a request may come back: raw; URL-encoded as a form body, a query, a
// path segment or by JavaScript's encodeURIComponent, with upper- or
// lower-case hex, once or twice; JSON-escaped, with or without HTML
// escaping, "\/" and \u escapes for non-ASCII, or Go-quoted; and the HTTP Basic
// credentials, client_id:secret in base64 (standard and URL alphabets, padded or
// not), with and without the RFC 6749 §2.3.1 form-encoding applied first.
// A nil *redactor replaces nothing. It is safe for concurrent use.
type redactor struct {
	build   func() *strings.Replacer
	secrets []string
}

// redacted replaces a secret in provider text.
const redacted = "REDACTED"

// newRedactor returns a redactor for the client secret of clientID and the
// request's other secrets. Its replacer (some thousand forms) is built on
// first use, which only a failed request needs.
func newRedactor(clientID, clientSecret string, secrets []string) *redactor {
	rd := &redactor{build: sync.OnceValue(func() *strings.Replacer { return replacer(clientID, clientSecret, secrets) })}
	for _, s := range append([]string{clientSecret}, secrets...) {
		if len(s) >= minSecret {
			rd.secrets = append(rd.secrets, s)
		}
	}
	return rd
}

// replacer builds a redactor's replacer, nil when there is nothing to
// replace.
func replacer(clientID, clientSecret string, secrets []string) *strings.Replacer {
	seen := make(map[string]bool)
	var forms []string
	add := func(s string) {
		if len(s) >= minSecret && !seen[s] {
			seen[s] = true
			forms = append(forms, s)
		}
	}
	for _, sec := range append([]string{clientSecret}, secrets...) {
		if len(sec) < minSecret {
			continue
		}
		// Both orders: a JSON body echoed in a URL, a form body echoed in
		// JSON.
		for _, u := range urlForms(sec) {
			for _, j := range jsonForms(u) {
				add(j)
			}
		}
		for _, j := range jsonForms(sec) {
			for _, u := range urlForms(j) {
				add(u)
			}
		}
	}
	if sec := clientSecret; len(sec) >= minSecret {
		for _, pair := range []string{clientID + ":" + sec, url.QueryEscape(clientID) + ":" + url.QueryEscape(sec), sec} {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				b := enc.EncodeToString([]byte(pair))
				add(b)
				add(strings.ReplaceAll(b, "/", `\/`))
				add(url.QueryEscape(b))
				add(lowerHex(url.QueryEscape(b)))
			}
		}
	}
	if len(forms) == 0 {
		return nil
	}
	// Longest first, so that a form containing another is replaced whole.
	slices.SortFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, redacted)
	}
	return strings.NewReplacer(pairs...)
}

// urlForms returns s and its URL encodings.
func urlForms(s string) []string {
	query := url.QueryEscape(s)
	forms := []string{
		s,
		query,
		strings.ReplaceAll(query, "+", "%20"),
		url.PathEscape(s),
		escapeExcept(s, "-_.~", "+"),
		escapeExcept(s, "-_.~", "%20"),
		escapeExcept(s, "-_.!~*'()", "%20"), // encodeURIComponent
		url.QueryEscape(query),
	}
	for _, f := range forms[1:] {
		forms = append(forms, lowerHex(f))
	}
	return forms
}

// escapeExcept percent-encodes every byte of s but ASCII letters, digits
// and keep, writing a space as space.
func escapeExcept(s, keep, space string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteString(space)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// lowerHex lower-cases the hex digits of every %XX in s.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// jsonForms returns s and s as it appears inside JSON string literals
// written by assorted encoders and inside Go-quoted strings.
func jsonForms(s string) []string {
	forms := []string{s}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if err := enc.Encode(s); err != nil {
			continue
		}
		lit := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)
		lit = strings.TrimPrefix(lit, `"`)
		for _, slash := range []bool{false, true} {
			l := lit
			if slash {
				l = strings.ReplaceAll(l, "/", `\/`)
			}
			forms = append(forms, l, asciiJSON(l, "%04x"), asciiJSON(l, "%04X"))
		}
	}
	// Go's %q and %+q, which grantd's own messages use.
	for _, q := range []string{strconv.Quote(s), strconv.QuoteToASCII(s)} {
		forms = append(forms, q[1:len(q)-1])
	}
	return forms
}

// asciiJSON writes the non-ASCII runes of a JSON literal as \u escapes
// (surrogate pairs above U+FFFF), in the hex case of format.
func asciiJSON(lit, format string) string {
	var b strings.Builder
	for _, r := range lit {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u`+format+`\u`+format, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&b, `\u`+format, r)
		}
	}
	return b.String()
}

// string returns s with every form of every secret replaced.
func (rd *redactor) string(s string) string {
	if rd == nil {
		return s
	}
	if r := rd.build(); r != nil {
		return r.Replace(s)
	}
	return s
}

// maxLeakDepth is how many layers of encoding [redactor.leaks] peels.
const maxLeakDepth = 3

// leaks reports whether s, peeled of up to maxLeakDepth layers of
// percent-encoding, backslash escapes (JSON, Go), HTML entities and base64
// in any order, still holds a secret: the backstop for an echo nested in
// ways the forms of [newRedactor] do not foresee (a JSON body, Go-quoted,
// inside a form answer).
func (rd *redactor) leaks(s string) bool {
	if rd == nil || len(rd.secrets) == 0 {
		return false
	}
	seen := map[string]bool{s: true}
	level := []string{s}
	for depth := 0; ; depth++ {
		for _, v := range level {
			for _, sec := range rd.secrets {
				if strings.Contains(v, sec) {
					return true
				}
			}
		}
		if depth == maxLeakDepth {
			return false
		}
		var next []string
		for _, v := range level {
			for _, peel := range peelers {
				if p := peel(v); !seen[p] {
					seen[p] = true
					next = append(next, p)
				}
			}
		}
		if len(next) == 0 {
			return false
		}
		level = next
	}
}

// peelers each remove one layer of encoding, leniently: what does not
// decode is left as it is.
var peelers = []func(string) string{
	func(s string) string { return percentDecode(s, false) },
	func(s string) string { return percentDecode(s, true) },
	unbackslash,
	html.UnescapeString,
	unbase64,
}

// percentDecode decodes every well-formed %XX, and "+" as a space if plus.
func percentDecode(s string, plus bool) string {
	if !strings.Contains(s, "%") && (!plus || !strings.Contains(s, "+")) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
		case s[i] == '+' && plus:
			b.WriteByte(' ')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

var (
	hexEscapes  = map[byte]int{'x': 2, 'u': 4, 'U': 8}
	charEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', '\'': '\'', 'n': '\n', 't': '\t', 'r': '\r', 'b': '\b', 'f': '\f'}
)

// unbackslash undoes JSON and Go string escapes: \" \\ \/ \n \t \r \b
// \f, \xXX, \uXXXX (with surrogate pairs) and \UXXXXXXXX.
func unbackslash(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		c := s[i+1]
		n := hexEscapes[c]
		if n > 0 {
			if i+2+n <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil {
					r := rune(v)
					i += 1 + n
					if c == 'x' {
						b.WriteByte(byte(v))
						continue
					}
					if utf16.IsSurrogate(r) && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
						if lo, err := strconv.ParseUint(s[i+3:i+7], 16, 32); err == nil {
							r = utf16.DecodeRune(r, rune(lo))
							i += 6
						}
					}
					b.WriteRune(r)
					continue
				}
			}
			b.WriteByte(s[i])
			continue
		}
		if d, ok := charEscapes[c]; ok {
			b.WriteByte(d)
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{8,}={0,2}`)

// unbase64 replaces every run of base64 characters that decodes (in
// either alphabet, padded or not) by what it decodes to.
func unbase64(s string) string {
	return base64Run.ReplaceAllStringFunc(s, func(run string) string {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if d, err := enc.DecodeString(run); err == nil {
				return string(d)
			}
		}
		return run
	})
}
