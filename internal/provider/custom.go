package provider

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Custom is a provider declared in config. Without Extends it is a complete
// provider. With Extends it starts as a copy of the named provider and the
// fields written in config replace the inherited ones: scalars and lists
// are replaced whole, nested blocks (refresh_token, api) field by field,
// and a field left out keeps the inherited value. Writing a field, even as
// false or an empty list, overrides it.
//
// A custom provider named like a built-in replaces it only when it extends
// that same built-in; this is how the sandbox and the demo point pax8 at a
// local authorization server:
//
//	providers:
//	  - name: pax8
//	    extends: pax8
//	    issuer: http://127.0.0.1:8081/pax8/
//	    authorize_url: http://127.0.0.1:8081/pax8/authorize
//
// Custom decodes strictly: an unknown field is an error with its line
// number, when the enclosing decoder has KnownFields set.
type Custom struct {
	// Extends names the provider this one starts from, if any.
	Extends string
	// Name is the provider's name (required).
	Name string

	fields map[string]any // the fields written, applied over the base
}

// customYAML is what a custom provider may contain: every Provider field
// plus extends.
type customYAML struct {
	Extends  string `yaml:"extends"`
	Provider `yaml:",inline"`
}

// UnmarshalYAML implements yaml's older func-based unmarshaler form, which,
// unlike the yaml.Node form, inherits the decoder's KnownFields setting and
// so reports unknown fields with their line numbers.
func (c *Custom) UnmarshalYAML(unmarshal func(any) error) error {
	var v customYAML
	if err := unmarshal(&v); err != nil {
		return err
	}
	var fields map[string]any
	if err := unmarshal(&fields); err != nil {
		return err
	}
	delete(fields, "extends")
	*c = Custom{Extends: v.Extends, Name: v.Name, fields: fields}
	return nil
}

// Apply returns base with c's fields written over it (base is not
// modified). Pass the zero Provider when c extends nothing.
func (c Custom) Apply(base Provider) (Provider, error) {
	p := base.Clone()
	if len(c.fields) == 0 {
		return p, nil
	}
	b, err := yaml.Marshal(c.fields)
	if err != nil {
		return Provider{}, fmt.Errorf("provider %s: %w", c.Name, err)
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		return Provider{}, fmt.Errorf("provider %s: %w", c.Name, err)
	}
	// A revocation URL is only inherited by a provider whose token
	// endpoint stays on the same origin: pointing pax8's token_url at a
	// sandbox must not leave revocations (which carry the refresh token)
	// going to login.pax8.com.
	if _, set := c.fields["revocation_url"]; !set && base.RevocationURL != "" && origin(p.TokenURL) != origin(base.TokenURL) {
		p.RevocationURL = ""
	}
	return p, nil
}

// origin returns scheme://host[:port] of raw, or "" when it does not parse.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// Extend returns base with the fields of the YAML mapping override written
// over it, with the semantics of [Custom]; unknown fields are errors. Code
// that builds providers at run time (the demo, tests pointing a built-in at
// the sandbox) uses it, or simply copies a Provider value and sets fields.
func Extend(base Provider, override []byte) (Provider, error) {
	var c Custom
	if err := decodeStrict(override, &c); err != nil {
		return Provider{}, fmt.Errorf("extend provider %s: %w", base.Name, err)
	}
	p, err := c.Apply(base)
	if err != nil {
		return Provider{}, err
	}
	return p, nil
}

// Resolve applies the custom providers to the built-ins, in order, and
// returns the full list: built-ins replaced by a custom provider of the
// same name that extends them, then the others. A custom provider may
// extend a built-in or a custom provider declared before it. Every problem
// is reported, joined; the result is not validated (see
// [Provider.Validate] and [NewRegistry]).
func Resolve(builtin []Provider, custom []Custom) ([]Provider, error) {
	known := map[string]Provider{}
	isBuiltin := map[string]bool{}
	var order []string
	for _, p := range builtin {
		known[p.Name] = p
		isBuiltin[p.Name] = true
		order = append(order, p.Name)
	}
	var errs []error
	declared := map[string]bool{}
	for i, c := range custom {
		where := fmt.Sprintf("providers[%d]", i)
		if c.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: is required", where))
			continue
		}
		if declared[c.Name] {
			errs = append(errs, fmt.Errorf("%s.name: provider %s is declared twice", where, c.Name))
			continue
		}
		declared[c.Name] = true
		var base Provider
		if c.Extends != "" {
			b, ok := known[c.Extends]
			if !ok {
				errs = append(errs, fmt.Errorf("%s.extends: unknown provider %q", where, c.Extends))
				continue
			}
			base = b
		}
		if isBuiltin[c.Name] && c.Extends != c.Name {
			errs = append(errs, fmt.Errorf("%s.name: %s is a built-in provider; to change it, write extends: %s", where, c.Name, c.Name))
			continue
		}
		p, err := c.Apply(base)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if p.DisplayName == "" {
			p.DisplayName = p.Name
		}
		if _, exists := known[c.Name]; !exists {
			order = append(order, c.Name)
		}
		known[c.Name] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]Provider, len(order))
	for i, name := range order {
		out[i] = known[name].Clone()
	}
	return out, nil
}
