package api

import (
	"errors"

	"github.com/grantd/grantd/internal/httpapi"
)

// The codes this package's handlers use, from the registry of package
// httpapi; broker codes pass through the adapter unchanged.
const (
	codeUnauthorized     = httpapi.CodeUnauthorized
	codeForbidden        = httpapi.CodeForbidden
	codeNotFound         = httpapi.CodeNotFound
	codeInvalidRequest   = httpapi.CodeInvalidRequest
	codeMethodNotAllowed = httpapi.CodeMethodNotAllowed
	codeRateLimited      = httpapi.CodeRateLimited
)

// errorf returns an [httpapi.Error] with status, code and msg.
func errorf(status int, code httpapi.Code, msg string) *httpapi.Error {
	return &httpapi.Error{Status: status, Code: code, Message: msg}
}

// HandlerFunc is an API handler: see [httpapi.HandlerFunc].
type HandlerFunc = httpapi.HandlerFunc

var errNoVault = errors.New("api: no vault configured")
