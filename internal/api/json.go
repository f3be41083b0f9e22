package api

import (
	"net/http"

	"github.com/grantd/grantd/internal/httpapi"
)

// Header values shared by responses; net/http never modifies them.
var (
	noStore         = []string{"no-store"}
	contentTypeJSON = []string{"application/json"}
)

// writeJSON writes v as JSON with status. It is for the ordinary routes;
// the token route writes its body by hand.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	return httpapi.WriteJSON(w, status, v)
}

// decode reads r's JSON body into v strictly (see [httpapi.Unmarshal]):
// application/json (or no content type), at most 1 MiB, one value.
func decode(r *http.Request, v any) error { return httpapi.Decode(r, v) }
