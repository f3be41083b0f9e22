// Package provider describes each vendor's OAuth2 and API dialect as data:
// endpoints, grant kind, token-request encoding, extra parameters such as
// Pax8's mandatory audience, token lifetimes and refresh behaviour. The
// built-ins are embedded YAML; custom providers come from config.
package provider
