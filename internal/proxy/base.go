package proxy

import (
	"net/url"

	"github.com/grantd/grantd/internal/upstream"
)

// underBase is the SEC-40 check on a joined URL ([upstream.UnderBase]).
func underBase(base, u *url.URL) error { return upstream.UnderBase(base, u) }

// Route labels the proxy's requests in the API's metrics and logs.
const Route = Prefix + "{connection}/{path...}"
