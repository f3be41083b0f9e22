package sandbox

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// ProviderYAML returns the entry of grantd's `providers:` config list that
// points the built-in provider of the same name at this sandbox: one YAML
// flow mapping,
//
//	{name: pax8, extends: pax8, issuer: "…", authorize_url: "…", token_url: "…",
//	 userinfo_url: "…", jwks_url: "…", revocation_url: "…", api: {base_url: "…"}}
//
// with ep's URLs as double-quoted strings (written on one line). Every
// endpoint is written, as "" where ep has none, so that no URL of the real
// vendor is inherited from the built-in. Each extra is a `key: value` flow
// fragment, such as `refresh_token: {reuse_interval: 30s}`, appended inside
// the braces as it is; the caller quotes what it puts there.
func ProviderYAML(name string, ep Endpoints, extra ...string) string {
	str := func(v string, style yaml.Style) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: style}
	}
	api := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
		str("base_url", 0), str(ep.APIBaseURL, yaml.DoubleQuotedStyle),
	}}
	m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	m.Content = append(m.Content, str("name", 0), str(name, 0), str("extends", 0), str(name, 0))
	for _, f := range [][2]string{
		{"issuer", ep.Issuer}, {"authorize_url", ep.AuthorizeURL}, {"token_url", ep.TokenURL},
		{"userinfo_url", ep.UserinfoURL}, {"jwks_url", ep.JWKSURL}, {"revocation_url", ep.RevocationURL},
	} {
		m.Content = append(m.Content, str(f[0], 0), str(f[1], yaml.DoubleQuotedStyle))
	}
	m.Content = append(m.Content, str("api", 0), api)
	b, err := yaml.Marshal(m)
	if err != nil {
		// Scalars and mappings built above always encode.
		panic("sandbox: ProviderYAML: " + err.Error())
	}
	fields := append([]string{strings.TrimSuffix(strings.TrimSpace(string(b)), "}")}, extra...)
	return strings.Join(fields, ", ") + "}"
}
