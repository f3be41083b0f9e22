package provider

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"
)

//go:embed builtin.yaml
var builtinYAML []byte

// builtins is decoded once at package initialisation; a malformed embedded
// file is a programming error caught by every test run.
var builtins = mustDecodeBuiltins(builtinYAML)

func mustDecodeBuiltins(b []byte) []Provider {
	ps, err := decodeList(b)
	if err != nil {
		panic(fmt.Sprintf("provider: builtin.yaml: %v", err))
	}
	return ps
}

// decodeList decodes a YAML sequence of providers, rejecting unknown fields.
func decodeList(b []byte) ([]Provider, error) {
	var ps []Provider
	if err := decodeStrict(b, &ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// Builtin returns the providers grantd knows without configuration (pax8,
// pax8-partner, pax8-vendor, paxful, daxko), described in builtin.yaml with
// the vendor documentation each value comes from. Each call returns fresh
// copies that the caller may modify.
func Builtin() []Provider {
	out := make([]Provider, len(builtins))
	for i, p := range builtins {
		out[i] = p.Clone()
	}
	return out
}

// Clone returns a deep copy of p: its slices are not shared with p.
func (p Provider) Clone() Provider {
	p.Scopes = slices.Clone(p.Scopes)
	p.IDTokenAlgs = slices.Clone(p.IDTokenAlgs)
	p.AuthorizeParams = maps.Clone(p.AuthorizeParams)
	p.TokenParams = maps.Clone(p.TokenParams)
	return p
}

// decodeStrict decodes one YAML document into v, rejecting unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}
