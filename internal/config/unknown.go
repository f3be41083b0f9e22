package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/grantd/grantd/internal/provider"
)

// unknownRE matches yaml's strict-decoding message for an unknown field.
var unknownRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)

// explainUnknown rewrites yaml's "field x not found in type pkg.T" errors
// in terms of the file: the YAML path of the field and, when one is close,
// the field that was probably meant. Go type names never reach the user.
// Other errors are returned unchanged.
func explainUnknown(src []byte, err error) error {
	te, ok := errors.AsType[*yaml.TypeError](err)
	if !ok {
		return err
	}
	var root yaml.Node
	_ = yaml.Unmarshal(src, &root) // a TypeError means it parsed
	var out []string
	for _, msg := range te.Errors {
		m := unknownRE.FindStringSubmatch(msg)
		if m == nil {
			out = append(out, msg)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		path := findKey(&root, "", line, m[2])
		if path == "" {
			path = m[2]
		}
		s := fmt.Sprintf("line %d: %s: unknown field", line, path)
		if near := nearest(m[2], knownFields[m[3]]); near != "" {
			s += fmt.Sprintf(" (did you mean %s?)", near)
		}
		out = append(out, s)
	}
	return errors.New("yaml: unmarshal errors:\n  " + strings.Join(out, "\n  "))
}

// findKey returns the path (a.b[0].c) of the mapping key named key on line,
// or "".
func findKey(n *yaml.Node, path string, line int, key string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := findKey(c, path, line, key); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if k.Line == line && k.Value == key {
				return p
			}
			if r := findKey(v, p, line, key); r != "" {
				return r
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if r := findKey(c, fmt.Sprintf("%s[%d]", path, i), line, key); r != "" {
				return r
			}
		}
	}
	return ""
}

// knownFields maps the type names yaml reports to the YAML field names of
// that type.
var knownFields = func() map[string][]string {
	m := map[string][]string{}
	collectFields(reflect.TypeFor[Config](), m)
	collectFields(reflect.TypeFor[provider.Provider](), m)
	m["provider.customYAML"] = append([]string{"extends"}, m["provider.Provider"]...)
	return m
}()

func collectFields(t reflect.Type, m map[string][]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	if _, done := m[t.String()]; done {
		return
	}
	m[t.String()] = nil
	var names []string
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if opts == "inline" {
			collectFields(f.Type, m)
			names = append(names, m[f.Type.String()]...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
		collectFields(f.Type, m)
	}
	m[t.String()] = names
}

// nearest returns the candidate closest to s by edit distance, if it is
// close enough to be a plausible typo (at most a third of its length,
// and at least 2, edits away), else "".
func nearest(s string, candidates []string) string {
	best, bestD := "", max(2, len(s)/3)+1
	for _, c := range candidates {
		if d := levenshtein(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
