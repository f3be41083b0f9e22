package demo

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/grantd/grantd/internal/sandbox"
)

// PrintInstructions tells the user how to try the running demo.
func (d *Demo) PrintInstructions(w io.Writer, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{
			"grantd_url":       d.PublicURL,
			"sandbox_url":      d.SandboxURL,
			"connect_url":      d.Link.URL,
			"tenant_id":        d.TenantID,
			"api_key":          d.APIKey,
			"partner_username": d.Partner.Username,
			"partner_password": d.Partner.Password,
			"directory":        d.Dir,
		})
		return
	}
	fmt.Fprintf(w, "grantd demo is running (Ctrl-C to stop)\n\n")
	fmt.Fprintf(w, "  grantd    %s\n  sandbox   %s (Pax8 issuer %s)\n  data      %s\n\n", d.PublicURL, d.SandboxURL, d.Sandbox.Issuer(sandbox.Pax8), d.Dir)
	fmt.Fprintf(w, "1. Open the connect page and press \"Integrate with Pax8\":\n\n     %s\n\n", d.Link.URL)
	fmt.Fprintf(w, "2. Log in to the Pax8 sandbox as a partner and allow access:\n\n     username  %s\n     password  %s\n\n", d.Partner.Username, d.Partner.Password)
	fmt.Fprintf(w, "3. Use the connection as tenant %q. Its API key is shown only now:\n\n     export GRANTD_URL=%s\n     export GRANTD_API_KEY=%s\n\n", d.TenantName, d.PublicURL, d.APIKey)
	fmt.Fprintf(w, "     curl -s -H \"Authorization: Bearer $GRANTD_API_KEY\" $GRANTD_URL/v1/connections\n")
	fmt.Fprintf(w, "     curl -s -H \"Authorization: Bearer $GRANTD_API_KEY\" $GRANTD_URL/v1/connections/<id>/token\n")
	fmt.Fprintf(w, "     go run ./cmd/grantd connections\n\n")
	fmt.Fprintf(w, "   or create another link and wait for it: go run ./cmd/grantd connect --provider pax8\n")
	if d.tmpDir != "" {
		fmt.Fprintf(w, "\nEverything is removed on exit; pass --dir to keep the database.\n")
	}
}
