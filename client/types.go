package grantd

import (
	"encoding/json"
	"time"
)

// Connection statuses.
const (
	StatusActive      = "active"
	StatusNeedsReauth = "needs_reauth"
	StatusRevoked     = "revoked"
)

// Connection is one tenant's delegated grant at a provider, as the API
// shows it: never with its tokens.
type Connection struct {
	ID                   string    `json:"id"`
	TenantID             string    `json:"tenant_id"`
	IntegrationID        string    `json:"integration_id"`
	Provider             string    `json:"provider"`
	Status               string    `json:"status"`
	Subject              string    `json:"subject,omitempty"`
	Email                string    `json:"email,omitempty"`
	Scopes               []string  `json:"scopes"`
	AccessExpiresAt      time.Time `json:"access_expires_at,omitzero"`
	RefreshExpiresAt     time.Time `json:"refresh_expires_at,omitzero"`
	RefreshIdleExpiresAt time.Time `json:"refresh_idle_expires_at,omitzero"`
	LastRefreshAt        time.Time `json:"last_refresh_at,omitzero"`
	ConnectedAt          time.Time `json:"connected_at,omitzero"`
	Version              int64     `json:"version"`
	LastError            string    `json:"last_error,omitempty"`
	// RequestedScopes are the scopes the authorization asked for; Scopes
	// are those the provider granted.
	RequestedScopes []string `json:"requested_scopes,omitempty"`
	// EndUser and Tags are what the connect session that made the
	// connection said about it.
	EndUser EndUser  `json:"end_user,omitzero"`
	Tags    []string `json:"tags,omitempty"`
}

// EndUser is the application's own user a connection is for. grantd only
// stores it, returns it and sends it in webhooks; each field is at most 256
// bytes without control characters.
type EndUser struct {
	ID          string `json:"id,omitempty"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
}

// Token is a valid access token for a connection. Its String and
// LogValue-free formatting never print the token itself.
type Token struct {
	ConnectionID string    `json:"connection_id"`
	Provider     string    `json:"provider"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	ExpiresIn    int64     `json:"expires_in"`
	Scopes       []string  `json:"scopes"`
}

// String never prints the token.
func (t Token) String() string { return "grantd.Token{" + t.ConnectionID + " REDACTED}" }

// GoString never prints the token either (%#v).
func (t Token) GoString() string { return t.String() }

// ConnectSessionRequest asks for a connect link: name the provider (the
// tenant's default integration for it) or the integration. With
// ConnectionID the link reauthorizes that connection instead of creating a
// new one.
type ConnectSessionRequest struct {
	Provider           string `json:"provider,omitempty"`
	IntegrationID      string `json:"integration_id,omitempty"`
	ReturnTo           string `json:"return_to,omitempty"`
	ConnectionID       string `json:"connection_id,omitempty"`
	AllowAccountChange bool   `json:"allow_account_change,omitempty"`
	// EndUser and Tags are stored on the connection the link makes (up to
	// 20 distinct tags); [ListOptions] filters by them.
	EndUser EndUser  `json:"end_user,omitzero"`
	Tags    []string `json:"tags,omitempty"`
}

// ConnectSession is a connect link. URL is shown once: send the tenant's
// user to it.
type ConnectSession struct {
	ID            string    `json:"id"`
	URL           string    `json:"url"`
	ExpiresAt     time.Time `json:"expires_at"`
	IntegrationID string    `json:"integration_id"`
}

// Event is one entry of a connection's history.
type Event struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Detail    string    `json:"detail,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Integration is an OAuth client registered with a provider, the tenant's
// own or shared by the operator. The client secret is never returned.
type Integration struct {
	ID              string    `json:"id"`
	Owner           string    `json:"owner"`
	TenantID        string    `json:"tenant_id,omitempty"`
	Provider        string    `json:"provider"`
	Name            string    `json:"name"`
	ClientID        string    `json:"client_id"`
	HasClientSecret bool      `json:"has_client_secret"`
	RedirectURI     string    `json:"redirect_uri"`
	Scopes          []string  `json:"scopes"`
	Audience        string    `json:"audience,omitempty"`
	IsDefault       bool      `json:"is_default"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
	// LastError is the vendor's reason for refusing the integration's own
	// credentials, and BrokenAt when it first did; empty while they work.
	LastError string    `json:"last_error,omitempty"`
	BrokenAt  time.Time `json:"broken_at,omitzero"`
}

// IntegrationRequest registers the tenant's own OAuth client. ClientSecret
// is sealed at rest by the server and never returned.
type IntegrationRequest struct {
	Provider     string `json:"provider"`
	Name         string `json:"name,omitempty"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// PartnerToken is the partner's refresh token of a
	// partner_refresh_bearer provider (Daxko).
	PartnerToken string   `json:"partner_token,omitempty"`
	RedirectURI  string   `json:"redirect_uri,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
	IsDefault    bool     `json:"is_default,omitempty"`
}

// String never prints the client secret.
func (r IntegrationRequest) String() string {
	return "grantd.IntegrationRequest{" + r.Provider + " " + r.ClientID + " secret=REDACTED}"
}

// GoString never prints the client secret either (%#v).
func (r IntegrationRequest) GoString() string { return r.String() }

// Provider is a vendor integrations can be made with.
type Provider struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Description string   `json:"description,omitempty"`
	Grant       string   `json:"grant"`
	Issuer      string   `json:"issuer,omitempty"`
	Scopes      []string `json:"scopes"`
	Audience    string   `json:"audience,omitempty"`
	APIBaseURL  string   `json:"api_base_url,omitempty"`
}

// Tenant is one of the operator's customers.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// TenantDeletion says what deleting a tenant removed.
type TenantDeletion struct {
	ID               string `json:"id"`
	Connections      int    `json:"connections"`
	Revoked          int    `json:"revoked"`
	RevocationFailed int    `json:"revocation_failed"`
}

// APIKey is a tenant API key as listed: never the key itself.
type APIKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
}

// KeyRequest describes a new API key. A zero ExpiresAt never expires.
type KeyRequest struct {
	Name      string    `json:"name,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Organization is one of the tenant's own organisations, the target of an
// org mapping.
type Organization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// OrgMapping maps one Pax8 company to one of the tenant's organisations.
type OrgMapping struct {
	CompanyID      string    `json:"company_id"`
	CompanyName    string    `json:"company_name"`
	OrgID          string    `json:"org_id"`
	OrgName        string    `json:"org_name,omitempty"`
	CompanyMissing bool      `json:"company_missing,omitempty"`
	OrgMissing     bool      `json:"org_missing,omitempty"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// OrgMappingSuggestion is a mapping grantd proposes from name similarity.
type OrgMappingSuggestion struct {
	CompanyID   string  `json:"company_id"`
	CompanyName string  `json:"company_name"`
	OrgID       string  `json:"org_id"`
	OrgName     string  `json:"org_name"`
	Score       float64 `json:"score"`
}

// Company is a Pax8 company as the mapping state lists it.
type Company struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// OrgMappings is a connection's mapping state.
type OrgMappings struct {
	Mappings              []OrgMapping           `json:"mappings"`
	Suggestions           []OrgMappingSuggestion `json:"suggestions"`
	UnmappedCompanies     []Company              `json:"unmapped_companies"`
	UnmappedOrganizations []Organization         `json:"unmapped_organizations"`
	CompaniesListedAt     time.Time              `json:"companies_listed_at,omitzero"`
}

// MappingLink is a short-lived link to a connection's mapping page. URL is
// shown once.
type MappingLink struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Action is one typed call grantd can make on a provider's API.
type Action struct {
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	Description string `json:"description"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	Paged       bool   `json:"paged"`
	// Idempotent marks a write action that takes an idempotency key
	// ([RunOptions.IdempotencyKey]).
	Idempotent   bool            `json:"idempotent,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`
}
