package action_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
)

// env is grantd's API with the action routes, over a sandbox, with one
// connected tenant.
type env struct {
	*testenv.Env
	t      *testing.T
	srv    *httptest.Server
	tenant string
	key    string
	conn   store.Connection
}

func newEnv(t *testing.T, ao action.Options) *env {
	t.Helper()
	return newEnvWith(t, testenv.Options{}, ao)
}

// newEnvWith is newEnv over a back end built with to.
func newEnvWith(t *testing.T, to testenv.Options, ao action.Options) *env {
	t.Helper()
	e := &env{Env: testenv.New(t, to), t: t}
	e.tenant, e.key = e.Tenant(t, "acme")
	e.conn = e.Connect(t, e.tenant, testenv.Partner)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ao.Tokens, ao.Providers, ao.Logger = e.Broker, e.Providers, log
	if ao.Store == nil {
		ao.Store = e.Store
	}
	r, err := action.New(ao)
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Options{Broker: e.Broker, Store: e.Store, Logger: log})
	action.Register(a, r)
	e.srv = httptest.NewServer(a)
	t.Cleanup(e.srv.Close)
	return e
}

// reply is the decoded answer of an action call.
type reply struct {
	status int
	header http.Header
	raw    string
	Result json.RawMessage `json:"result"`
	Error  struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Field    string `json:"field"`
		Upstream *struct {
			Status   int    `json:"status"`
			Type     string `json:"type"`
			Message  string `json:"message"`
			Instance string `json:"instance"`
		} `json:"upstream"`
	} `json:"error"`
}

// call runs action name on connection conn with a raw JSON body.
func (e *env) call(conn, name, body string) reply {
	e.t.Helper()
	return e.callAs(conn, name, body, "application/json")
}

// callAs is call with the Content-Type ctype ("" sends none).
func (e *env) callAs(conn, name, body, ctype string) reply {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.srv.URL+"/v1/connections/"+conn+"/actions/"+name, bytes.NewBufferString(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &r); err != nil {
		e.t.Fatalf("%s: answer is not JSON: %v: %q", name, err, b)
	}
	return r
}

// mustRun calls name on the env's connection, wants 200, and decodes the
// result into out (if not nil).
func (e *env) mustRun(name string, in any, out any) {
	e.t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.call(e.conn.ID, name, string(b))
	if r.status != http.StatusOK {
		e.t.Fatalf("%s(%s) = %d %s", name, b, r.status, r.raw)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			e.t.Fatalf("%s: decode result: %v", name, err)
		}
	}
}
