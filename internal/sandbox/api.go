package sandbox

import (
	"net/http"

	"github.com/grantd/grantd/internal/sandbox/pax8api"
)

// newAPI builds the emulated Pax8 partner API, served relative to
// /pax8-api/v1 on the sandbox clock.
func (s *Server) newAPI(opts Options) http.Handler {
	api := pax8api.New(pax8api.Options{Now: s.Now, Seed: 1, Size: opts.APISize, Logger: s.log})
	return http.StripPrefix("/"+Pax8+"-api/v1", api)
}
