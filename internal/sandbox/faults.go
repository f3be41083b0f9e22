package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fault makes the next Count matching requests misbehave in the way named by
// Kind. Faults are consumed in the order they were added; one request
// consumes at most one fault.
type Fault struct {
	// Provider is the personality (default "pax8").
	Provider string `json:"provider,omitempty"`
	// Endpoint is "token", "authorize", "userinfo", "api", "jwks" or
	// "revoke" (server_error, slow, html, rate_limited, outage). When
	// empty it defaults to the first endpoint the kind applies to (see
	// [FaultKinds]).
	Endpoint string `json:"endpoint,omitempty"`
	// Kind names the misbehaviour, one of [FaultKinds].
	Kind string `json:"kind"`
	// Count is how many requests the fault affects (default 1).
	Count int `json:"count,omitempty"`
	// GrantType restricts a token fault to one grant_type
	// (authorization_code, refresh_token or client_credentials).
	GrantType string `json:"grant_type,omitempty"`
	// Delay is how long a "slow" fault waits before answering normally,
	// and how long a "slow_after" fault waits after processing the grant
	// (rotating a refresh token) before answering, honouring the request's
	// context. In JSON it is a duration string
	// such as "2s".
	Delay time.Duration `json:"-"`
	// Status overrides the HTTP status of "server_error" (default 500),
	// "html" (default 502), "outage" and "jwks_unavailable" (default 503)
	// faults.
	Status int `json:"status,omitempty"`
	// Duration is how long an "outage" lasts on the sandbox clock. An
	// outage is not counted down by requests: every request to its
	// endpoint fails from when it is added (From) until From+Duration
	// (Until), and advancing the clock past Until ends it. In JSON it is
	// a duration string such as "10m".
	Duration time.Duration `json:"-"`
	// From and Until are the window of an outage, set by [Server.AddFault]
	// from the sandbox clock; they cannot be given.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// MarshalJSON encodes Delay as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	v := struct {
		plain
		Delay    string `json:"delay,omitempty"`
		Duration string `json:"duration,omitempty"`
	}{plain: plain(f)}
	if f.Delay != 0 {
		v.Delay = f.Delay.String()
	}
	if f.Duration != 0 {
		v.Duration = f.Duration.String()
	}
	return json.Marshal(v)
}

// UnmarshalJSON decodes Delay from a duration string such as "1.5s".
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var v struct {
		plain
		Delay    string `json:"delay,omitempty"`
		Duration string `json:"duration,omitempty"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*f = Fault(v.plain)
	if !f.From.IsZero() || !f.Until.IsZero() {
		return errors.New("fault from and until are set by the sandbox; give a duration")
	}
	if v.Duration != "" {
		d, err := time.ParseDuration(v.Duration)
		if err != nil {
			return fmt.Errorf("fault duration: %w", err)
		}
		f.Duration = d
	}
	if v.Delay != "" {
		d, err := time.ParseDuration(v.Delay)
		if err != nil {
			return fmt.Errorf("fault delay: %w", err)
		}
		f.Delay = d
	}
	return nil
}

// Endpoints a fault may target.
const (
	endpointToken     = "token"
	endpointAuthorize = "authorize"
	endpointUserinfo  = "userinfo"
	endpointAPI       = "api"
	endpointJWKS      = "jwks"
	endpointRevoke    = "revoke"
)

var generic = []string{endpointToken, endpointAuthorize, endpointUserinfo, endpointAPI}

// withRevoke adds the revocation endpoint, which only answers: its faults
// are the ones that replace an answer.
var withRevoke = append(slices.Clip(generic), endpointRevoke)

// faultKinds maps each kind to the endpoints it applies to; the first is the
// default.
var faultKinds = map[string][]string{
	"invalid_grant":       {endpointToken},
	"server_error":        withRevoke,
	"server_error_after":  {endpointToken, endpointAPI},
	"drop_after":          {endpointAPI},
	"slow_after":          {endpointToken},
	"slow":                withRevoke,
	"malformed":           {endpointToken, endpointUserinfo, endpointAPI},
	"html":                withRevoke,
	"rate_limited":        withRevoke,
	"unauthorized":        {endpointAPI, endpointUserinfo},
	"no_access_token":     {endpointToken},
	"token_type_mac":      {endpointToken},
	"echo_request":        {endpointToken},
	"echo_token_type":     {endpointToken},
	"expires_in_string":   {endpointToken},
	"expires_in_negative": {endpointToken},
	"expires_in_huge":     {endpointToken},
	"scope_narrowed":      {endpointToken},
	"iss_mismatch":        {endpointAuthorize},
	"iss_missing":         {endpointAuthorize},
	"userinfo_other_sub":  {endpointUserinfo},
	"jwks_bad_key":        {endpointJWKS},
	"jwks_unavailable":    {endpointJWKS},
	"outage":              {endpointToken, endpointAuthorize, endpointUserinfo, endpointAPI, endpointJWKS, endpointRevoke},
}

// kindOutage is the fault that lasts a window of the sandbox clock instead
// of a number of requests.
const kindOutage = "outage"

// idTokenFaults are the id_token misbehaviours of security-checklist §2.3.
var idTokenFaults = []string{
	"id_token_iss_mismatch", "id_token_iss_trailing_slash", // OIDC-01
	"id_token_no_aud", "id_token_wrong_aud", "id_token_extra_aud", // OIDC-02
	"id_token_multi_aud_no_azp", "id_token_wrong_azp", // OIDC-03
	"id_token_no_sub",                        // OIDC-04
	"id_token_expired",                       // OIDC-05
	"id_token_no_iat", "id_token_future_iat", // OIDC-06
	"id_token_no_nonce", "id_token_wrong_nonce", // OIDC-07
	"id_token_bad_signature",       // OIDC-08
	"id_token_alg_none",            // OIDC-09
	"id_token_hs256",               // OIDC-10
	"id_token_no_kid",              // OIDC-11
	"id_token_unknown_kid_rotated", // OIDC-13
	"id_token_other_sub",           // OIDC-15
	"id_token_bad_at_hash",         // OIDC-18
}

func init() {
	for _, k := range idTokenFaults {
		faultKinds[k] = []string{endpointToken}
	}
}

// FaultKinds returns every fault kind, sorted.
func FaultKinds() []string {
	var out []string
	for k := range faultKinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var errBadFault = errors.New("invalid fault")

// normalize validates f and fills its defaults.
func (f Fault) normalize() (Fault, error) {
	if f.Provider == "" {
		f.Provider = Pax8
	}
	eps, ok := faultKinds[f.Kind]
	if !ok {
		return f, fmt.Errorf("%w: unknown kind %q", errBadFault, f.Kind)
	}
	if f.Endpoint == "" {
		f.Endpoint = eps[0]
	}
	if !slices.Contains(eps, f.Endpoint) {
		return f, fmt.Errorf("%w: kind %q does not apply to endpoint %q (use one of %s)", errBadFault, f.Kind, f.Endpoint, strings.Join(eps, ", "))
	}
	switch f.GrantType {
	case "", grantAuthorizationCode, grantRefreshToken, grantClientCredentials:
	default:
		return f, fmt.Errorf("%w: unknown grant_type %q", errBadFault, f.GrantType)
	}
	if f.GrantType != "" && f.Endpoint != endpointToken {
		return f, fmt.Errorf("%w: grant_type applies only to token faults", errBadFault)
	}
	if f.Count < 0 {
		return f, fmt.Errorf("%w: negative count", errBadFault)
	}
	if f.Kind == kindOutage {
		switch {
		case f.Duration <= 0:
			return f, fmt.Errorf("%w: outage needs a positive duration", errBadFault)
		case f.Count != 0 || f.GrantType != "":
			return f, fmt.Errorf("%w: an outage lasts its duration for every request: no count or grant_type", errBadFault)
		}
	} else if f.Duration != 0 {
		return f, fmt.Errorf("%w: duration applies only to outage", errBadFault)
	}
	if f.Count == 0 && f.Kind != kindOutage {
		f.Count = 1
	}
	if (f.Kind == "slow" || f.Kind == "slow_after") && f.Delay <= 0 {
		return f, fmt.Errorf("%w: %s needs a positive delay", errBadFault, f.Kind)
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return f, fmt.Errorf("%w: status %d", errBadFault, f.Status)
	}
	return f, nil
}

func isOutage(kind string) bool { return kind == kindOutage }

// faultList is the queue of pending faults. It is safe for concurrent use.
type faultList struct {
	now   func() time.Time // the sandbox clock, for outages
	mu    sync.Mutex
	items []Fault // Count is the number of uses left
}

// AddFault queues a fault. It reports an error for an unknown provider,
// kind or endpoint.
func (s *Server) AddFault(f Fault) error {
	f, err := f.normalize()
	if err != nil {
		return err
	}
	if _, err := s.provider(f.Provider); err != nil {
		return fmt.Errorf("%w: %w", errBadFault, err)
	}
	if f.Kind == kindOutage {
		f.From = s.Now()
		f.Until = f.From.Add(f.Duration)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.items = append(s.faults.items, f)
	return nil
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.items = nil
}

// dropEndedLocked forgets the outages whose window has passed; fl.mu must
// be held.
func (fl *faultList) dropEndedLocked(now time.Time) {
	fl.items = slices.DeleteFunc(fl.items, func(f Fault) bool { return f.Kind == kindOutage && !now.Before(f.Until) })
}

// list returns the pending faults, outages that have ended excluded.
func (fl *faultList) list() []Fault {
	now := fl.now()
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.dropEndedLocked(now)
	return append([]Fault{}, fl.items...)
}

// take consumes one use of the first fault matching the request, if any.
// A nil accept takes any kind. Id_token faults never match
// client-credentials requests, which carry no id_token. An outage whose
// window holds the sandbox's now matches before any other fault and is
// not consumed; one whose window has passed is dropped.
func (fl *faultList) take(provider, endpoint, grant string, accept func(kind string) bool) (Fault, bool) {
	now := fl.now()
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.dropEndedLocked(now)
	for _, f := range fl.items {
		if f.Kind == kindOutage && f.Provider == provider && f.Endpoint == endpoint &&
			!now.Before(f.From) && (accept == nil || accept(f.Kind)) {
			return f, true
		}
	}
	for i := range fl.items {
		f := &fl.items[i]
		if f.Provider != provider || f.Endpoint != endpoint || f.Kind == kindOutage {
			continue
		}
		if f.GrantType != "" && f.GrantType != grant {
			continue
		}
		if strings.HasPrefix(f.Kind, "id_token_") && grant == grantClientCredentials {
			continue
		}
		if accept != nil && !accept(f.Kind) {
			continue
		}
		out := *f
		f.Count--
		if f.Count == 0 {
			fl.items = slices.Delete(fl.items, i, i+1)
		}
		return out, true
	}
	return Fault{}, false
}
