package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// MaxBulkGrants bounds one [Server.MintGrants] call.
const MaxBulkGrants = 200_000

// BulkGrants asks for Count refresh-token grants minted directly, as if
// each had gone through login and consent: for load tests that need many
// live grants without driving the browser leg.
type BulkGrants struct {
	// Provider is the personality (default "pax8"); it must have an
	// authorization server (pax8 or paxful).
	Provider string `json:"provider,omitempty"`
	// ClientID is a registered client of the provider.
	ClientID string `json:"client_id"`
	// Count is the number of grants, 1 to [MaxBulkGrants].
	Count int `json:"count"`
	// SubjectPrefix prefixes each grant's subject, followed by its index
	// from 0 (default "auth0|load-" for pax8, "paxful|load-" for paxful).
	SubjectPrefix string `json:"subject_prefix,omitempty"`
	// Scopes are the granted scopes (default: every scope of the
	// personality). Unknown scopes are refused; pax8 needs
	// offline_access, as Auth0 issues no refresh token without it.
	Scopes []string `json:"scopes,omitempty"`
	// Audience is the access tokens' audience (pax8 default
	// https://api.pax8.com).
	Audience string `json:"audience,omitempty"`
	// AccessToken also signs an access token (and id_token with openid)
	// per grant. Signing costs about a millisecond per token, so it is off
	// by default; the first refresh yields one anyway.
	AccessToken bool `json:"access_token,omitempty"`
}

// MintedGrant is one grant minted by [Server.MintGrants].
type MintedGrant struct {
	Subject      string `json:"subject"`
	RefreshToken string `json:"refresh_token"`
	// AccessToken, ExpiresIn and IDToken are set when
	// [BulkGrants.AccessToken] was asked for.
	AccessToken string `json:"access_token,omitempty"`
	ExpiresIn   int64  `json:"expires_in,omitempty"`
	IDToken     string `json:"id_token,omitempty"`
}

var errBadGrants = errors.New("invalid bulk grants request")

// mintChunk is how many grants are created per hold of the provider's
// lock, so token requests are not stalled by a large batch.
const mintChunk = 1000

// MintGrants creates the grants req asks for and calls emit with each, in
// index order, stopping at emit's first error. Each grant is one refresh
// token family, live from the sandbox's now with the provider's lifetimes,
// indistinguishable from one created by consent; refreshing it rotates as
// usual.
func (s *Server) MintGrants(req BulkGrants, emit func(MintedGrant) error) error {
	p, req, err := s.checkBulk(req)
	if err != nil {
		return err
	}
	p.mu.Lock()
	client := p.clients[req.ClientID]
	st := p.settings
	p.mu.Unlock()
	now := s.Now()
	batch := make([]MintedGrant, 0, min(req.Count, mintChunk))
	fams := make([]*family, 0, cap(batch))
	values := make([]string, 0, cap(batch))
	for start := 0; start < req.Count; start += mintChunk {
		n := min(mintChunk, req.Count-start)
		batch, fams, values = batch[:0], fams[:0], values[:0]
		for i := range n {
			sub := req.SubjectPrefix + strconv.Itoa(start+i)
			fams = append(fams, &family{
				id: randomToken(16), clientID: client.ID, subject: sub, audience: req.Audience,
				scopes: req.Scopes, authTime: now, absoluteExp: now.Add(st.RefreshAbsolute),
			})
			values = append(values, "v1."+randomToken(48))
			batch = append(batch, MintedGrant{Subject: sub, RefreshToken: values[i]})
		}
		p.mu.Lock()
		for i, fam := range fams {
			p.families[fam.id] = fam
			p.refresh[values[i]] = &refreshToken{familyID: fam.id, idleExp: now.Add(st.RefreshIdle)}
		}
		p.mu.Unlock()
		for i := range batch {
			if req.AccessToken {
				resp, err := s.issueTokens(p, issue{
					client: client, subject: fams[i].subject, audience: req.Audience, scopes: req.Scopes,
					authTime: now, familyID: fams[i].id,
				}, st, now, Fault{})
				if err != nil {
					return fmt.Errorf("issue tokens: %w", err)
				}
				batch[i].AccessToken, _ = resp["access_token"].(string)
				batch[i].ExpiresIn, _ = resp["expires_in"].(int64)
				batch[i].IDToken, _ = resp["id_token"].(string)
			}
			if err := emit(batch[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkBulk validates req and fills its defaults.
func (s *Server) checkBulk(req BulkGrants) (*provider, BulkGrants, error) {
	if req.Provider == "" {
		req.Provider = Pax8
	}
	p, err := s.provider(req.Provider)
	if err != nil {
		return nil, req, fmt.Errorf("%w: %w", errBadGrants, err)
	}
	if p.d.paths.token == "" {
		return nil, req, fmt.Errorf("%w: provider %q has no refresh-token grants", errBadGrants, req.Provider)
	}
	var errs []error
	if req.Count < 1 || req.Count > MaxBulkGrants {
		errs = append(errs, fmt.Errorf("count must be between 1 and %d, got %d", MaxBulkGrants, req.Count))
	}
	p.mu.Lock()
	_, known := p.clients[req.ClientID]
	p.mu.Unlock()
	if !known {
		errs = append(errs, fmt.Errorf("client_id %q is not registered with %s", req.ClientID, req.Provider))
	}
	if req.SubjectPrefix == "" {
		req.SubjectPrefix = p.name + "|load-"
		if p.name == Pax8 {
			req.SubjectPrefix = "auth0|load-" // Auth0's database-connection form
		}
	}
	if req.Scopes == nil {
		for _, sc := range p.d.scopes {
			req.Scopes = append(req.Scopes, sc.Name)
		}
	} else {
		for _, sc := range req.Scopes {
			if !slices.ContainsFunc(p.d.scopes, func(i scopeInfo) bool { return i.Name == sc }) {
				errs = append(errs, fmt.Errorf("unknown scope %q", sc))
			}
		}
		req.Scopes = p.d.grantedScopes(strings.Join(req.Scopes, " "))
		if p.d.refreshScope != "" && !slices.Contains(req.Scopes, p.d.refreshScope) {
			errs = append(errs, fmt.Errorf("scopes must include %s for a refresh token", p.d.refreshScope))
		}
	}
	switch {
	case p.d.audiences == nil && req.Audience != "":
		errs = append(errs, fmt.Errorf("provider %q takes no audience", req.Provider))
	case p.d.audiences == nil || req.Audience == "":
		req.Audience = p.d.apiAudience(s.Endpoints(p.name))
	case !slices.Contains(p.d.audiences, req.Audience):
		errs = append(errs, fmt.Errorf("unknown audience %q", req.Audience))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, req, fmt.Errorf("%w: %w", errBadGrants, err)
	}
	return p, req, nil
}

// controlGrants is POST /_sandbox/grants: the body is a [BulkGrants]; the
// answer streams the [MintedGrant]s as one JSON array, or as NDJSON (one
// object a line) with ?format=ndjson or Accept: application/x-ndjson.
func (s *Server) controlGrants(w http.ResponseWriter, r *http.Request) {
	var req BulkGrants
	if err := decodeStrict(r, &req); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	if _, _, err := s.checkBulk(req); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	ndjson := r.URL.Query().Get("format") == "ndjson" || strings.Contains(r.Header.Get("Accept"), "application/x-ndjson")
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if ndjson {
		h.Set("Content-Type", "application/x-ndjson")
	} else {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	sep := "["
	err := s.MintGrants(req, func(g MintedGrant) error {
		if !ndjson {
			bw.WriteString(sep)
			sep = ","
		}
		return enc.Encode(g)
	})
	if err != nil {
		// The status is sent; a truncated body is what the client sees.
		s.log.Error("sandbox mint grants", "err", err)
		return
	}
	if !ndjson {
		if sep == "[" {
			bw.WriteString("[")
		}
		bw.WriteString("]\n")
	}
	bw.Flush()
}
