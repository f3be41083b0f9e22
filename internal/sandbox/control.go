package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The control API under /_sandbox/ drives the sandbox over HTTP. It has no
// authentication: the sandbox is a test and demo tool.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sandbox/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("POST /_sandbox/stats/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"faults": s.faults.list(), "kinds": FaultKinds()})
	})
	mux.HandleFunc("POST /_sandbox/faults", s.controlAddFault)
	mux.HandleFunc("POST /_sandbox/grants", s.controlGrants)
	mux.HandleFunc("DELETE /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, clockJSON(s.Now()))
	})
	mux.HandleFunc("POST /_sandbox/clock", s.controlClock)
	mux.HandleFunc("POST /_sandbox/clients", s.controlClient)
	mux.HandleFunc("POST /_sandbox/daxko/partners", s.controlDaxkoPartner)
	mux.HandleFunc("GET /_sandbox/settings", s.controlGetSettings)
	mux.HandleFunc("POST /_sandbox/settings", s.controlSettings)
	mux.HandleFunc("GET /_sandbox/pax8/discrepancies", s.controlDiscrepancies)
	mux.HandleFunc("POST /_sandbox/pax8/discrepancies", s.controlDiscrepancies)
}

func controlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// decodeStrict decodes one JSON object, rejecting unknown fields.
func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	return nil
}

func (s *Server) controlAddFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := decodeStrict(r, &f); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.AddFault(f); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func clockJSON(t time.Time) map[string]string {
	return map[string]string{"now": t.UTC().Format(time.RFC3339Nano)}
}

func (s *Server) controlClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
	}
	if err := decodeStrict(r, &req); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	d, err := time.ParseDuration(req.Advance)
	if err != nil {
		controlError(w, http.StatusBadRequest, fmt.Errorf("advance: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, clockJSON(s.Advance(d)))
}

func (s *Server) controlClient(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Provider     string   `json:"provider"`
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		RedirectURIs []string `json:"redirect_uris"`
		Name         string   `json:"name"`
	}
	if err := decodeStrict(r, &req); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	if req.Provider == "" {
		req.Provider = Pax8
	}
	if _, err := s.provider(req.Provider); err != nil {
		controlError(w, http.StatusNotFound, err)
		return
	}
	if req.ClientID == "" || req.ClientSecret == "" {
		controlError(w, http.StatusBadRequest, errors.New("client_id and client_secret are required"))
		return
	}
	s.RegisterClient(req.Provider, Client{ID: req.ClientID, Secret: req.ClientSecret, RedirectURIs: req.RedirectURIs, Name: req.Name})
	w.WriteHeader(http.StatusNoContent)
}

// controlDaxkoPartner registers a Daxko partner account:
// {"username","password","refresh_token","clients":[9999]}.
func (s *Server) controlDaxkoPartner(w http.ResponseWriter, r *http.Request) {
	var dp DaxkoPartner
	if err := decodeStrict(r, &dp); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.RegisterDaxkoPartner(dp); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// settingsJSON is the wire form of [Settings]; omitted fields are left
// unchanged by POST /_sandbox/settings.
type settingsJSON struct {
	Provider        string   `json:"provider,omitempty"`
	Rotation        *bool    `json:"rotation,omitempty"`
	ReuseInterval   *string  `json:"reuse_interval,omitempty"`
	AccessTTL       *string  `json:"access_ttl,omitempty"`
	RefreshAbsolute *string  `json:"refresh_absolute,omitempty"`
	RefreshIdle     *string  `json:"refresh_idle,omitempty"`
	SendIss         *bool    `json:"send_iss,omitempty"`
	RequireJSON     *bool    `json:"require_json,omitempty"`
	RateLimited     *bool    `json:"rate_limited,omitempty"`
	ExpiresInNumber *bool    `json:"expires_in_number,omitempty"`
	TokenLatency    *string  `json:"token_latency,omitempty"`
	TokenRateLimit  *float64 `json:"token_rate_limit,omitempty"`
	TokenRateBurst  *int     `json:"token_rate_burst,omitempty"`
	APIRateLimit    *float64 `json:"api_rate_limit,omitempty"`
	APIRateBurst    *int     `json:"api_rate_burst,omitempty"`
}

func toSettingsJSON(provider string, st Settings) settingsJSON {
	str := func(d time.Duration) *string { v := d.String(); return &v }
	return settingsJSON{
		Provider: provider, Rotation: &st.Rotation, ReuseInterval: str(st.ReuseInterval),
		AccessTTL: str(st.AccessTTL), RefreshAbsolute: str(st.RefreshAbsolute), RefreshIdle: str(st.RefreshIdle),
		SendIss: &st.SendIss, RequireJSON: &st.RequireJSON, RateLimited: &st.RateLimited,
		ExpiresInNumber: &st.ExpiresInNumber, TokenLatency: str(st.TokenLatency),
		TokenRateLimit: &st.TokenRateLimit, TokenRateBurst: &st.TokenRateBurst,
		APIRateLimit: &st.APIRateLimit, APIRateBurst: &st.APIRateBurst,
	}
}

// apply returns st changed by the fields present in j.
func (j settingsJSON) apply(st Settings) (Settings, error) {
	var errs []error
	dur := func(name string, src *string, dst *time.Duration, allowZero bool) {
		if src == nil {
			return
		}
		d, err := time.ParseDuration(*src)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		case d < 0 || (d == 0 && !allowZero):
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", name, *src))
		default:
			*dst = d
		}
	}
	dur("reuse_interval", j.ReuseInterval, &st.ReuseInterval, true)
	dur("access_ttl", j.AccessTTL, &st.AccessTTL, false)
	dur("refresh_absolute", j.RefreshAbsolute, &st.RefreshAbsolute, false)
	dur("refresh_idle", j.RefreshIdle, &st.RefreshIdle, false)
	dur("token_latency", j.TokenLatency, &st.TokenLatency, true)
	if j.TokenRateLimit != nil {
		if *j.TokenRateLimit < 0 {
			errs = append(errs, fmt.Errorf("token_rate_limit: must not be negative, got %v", *j.TokenRateLimit))
		} else {
			st.TokenRateLimit = *j.TokenRateLimit
		}
	}
	if j.TokenRateBurst != nil {
		if *j.TokenRateBurst < 0 {
			errs = append(errs, fmt.Errorf("token_rate_burst: must not be negative, got %d", *j.TokenRateBurst))
		} else {
			st.TokenRateBurst = *j.TokenRateBurst
		}
	}
	if j.APIRateLimit != nil {
		if *j.APIRateLimit < 0 {
			errs = append(errs, fmt.Errorf("api_rate_limit: must not be negative, got %v", *j.APIRateLimit))
		} else {
			st.APIRateLimit = *j.APIRateLimit
		}
	}
	if j.APIRateBurst != nil {
		if *j.APIRateBurst < 0 {
			errs = append(errs, fmt.Errorf("api_rate_burst: must not be negative, got %d", *j.APIRateBurst))
		} else {
			st.APIRateBurst = *j.APIRateBurst
		}
	}
	set := func(src *bool, dst *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(j.Rotation, &st.Rotation)
	set(j.SendIss, &st.SendIss)
	set(j.RequireJSON, &st.RequireJSON)
	set(j.RateLimited, &st.RateLimited)
	set(j.ExpiresInNumber, &st.ExpiresInNumber)
	return st, errors.Join(errs...)
}

func (s *Server) controlGetSettings(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("provider")
	if name == "" {
		name = Pax8
	}
	if _, err := s.provider(name); err != nil {
		controlError(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, toSettingsJSON(name, s.settings(name)))
}

func (s *Server) controlSettings(w http.ResponseWriter, r *http.Request) {
	var req settingsJSON
	if err := decodeStrict(r, &req); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	if req.Provider == "" {
		req.Provider = Pax8
	}
	p, err := s.provider(req.Provider)
	if err != nil {
		controlError(w, http.StatusNotFound, err)
		return
	}
	p.mu.Lock()
	st, err := req.apply(p.settings)
	if err == nil {
		p.settings = st
		p.bucket, p.apiBucket = tokenBucket{}, tokenBucket{}
	}
	p.mu.Unlock()
	if err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, toSettingsJSON(req.Provider, st))
}
