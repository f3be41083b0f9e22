package action

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/upstream"
	"github.com/grantd/grantd/pax8"
)

// Action is one named operation. Its exported fields describe it; the
// catalogue ([Catalogue]) holds every action grantd offers.
type Action struct {
	// Name is "<provider>.<verb>_<resource>", such as "pax8.get_company".
	Name string `json:"name"`
	// Provider is the provider family the action calls ("pax8").
	Provider    string `json:"provider"`
	Description string `json:"description"`
	// Method and Path are the upstream request the action makes, relative
	// to the provider's API base ("GET", "/companies/{companyId}").
	Method string `json:"method"`
	Path   string `json:"path"`
	// Paged says the action takes page and size, or all.
	Paged        bool   `json:"paged"`
	InputSchema  Schema `json:"input_schema"`
	OutputSchema Schema `json:"output_schema"`
	// Idempotent says the action is a write that takes an
	// Idempotency-Key (header, or idempotency_key in the input).
	Idempotent bool `json:"idempotent,omitempty"`

	run func(ctx context.Context, c *pax8.Client, raw []byte, maxAll int) (any, error)
	// look, for a write, reads the provider to learn whether the write
	// with input raw, first sent at since, has happened; it returns what
	// the write would have answered, best candidate first (several
	// candidates: orders alike), or none.
	look func(ctx context.Context, c *pax8.Client, raw []byte, since time.Time) ([]any, error)
	// canon decodes a write's input and returns its idempotency_key and
	// canonical form.
	canon func(raw []byte) (*string, []byte, error)
	// resource is the provider id of what a write's result created ("" when
	// the same result may answer several keys, as an update does).
	resource func(result any) string
}

// define builds an Action from a typed function; the schemas are reflected
// from In and Out.
func define[In, Out any](name, desc, method, path string, fn func(ctx context.Context, c *pax8.Client, in *In) (Out, error)) Action {
	return Action{
		Name: name, Provider: "pax8", Description: desc, Method: method, Path: path,
		InputSchema:  SchemaOf(reflect.TypeFor[In](), true),
		OutputSchema: SchemaOf(reflect.TypeFor[Out](), false),
		run: func(ctx context.Context, c *pax8.Client, raw []byte, _ int) (any, error) {
			in := new(In)
			if err := decodeInput(raw, in); err != nil {
				return nil, err
			}
			return fn(ctx, c, in)
		},
	}
}

// defineWrite builds a write Action that takes an Idempotency-Key. look
// reports the results the write would have answered if it already
// happened (see [Action]); resource, when not nil, names what a result
// created, so that one result answers one key only.
func defineWrite[In, Out any](name, desc, method, path string,
	fn func(ctx context.Context, c *pax8.Client, in *In) (Out, error),
	look func(ctx context.Context, c *pax8.Client, in *In, since time.Time) ([]Out, error),
	resource func(out Out) string,
) Action {
	a := define(name, desc, method, path, fn)
	a.Idempotent = true
	a.canon = canonical[In]
	a.look = func(ctx context.Context, c *pax8.Client, raw []byte, since time.Time) ([]any, error) {
		in := new(In)
		if err := decodeInput(raw, in); err != nil {
			return nil, err
		}
		outs, err := look(ctx, c, in, since)
		if err != nil {
			return nil, err
		}
		res := make([]any, len(outs))
		for i, o := range outs {
			res[i] = o
		}
		return res, nil
	}
	a.resource = func(result any) string {
		out, ok := result.(Out)
		if !ok || resource == nil {
			return ""
		}
		return resource(out)
	}
	return a
}

// Paging is the part of every list action's input that selects pages.
type Paging struct {
	Page *int   `json:"page,omitempty" min:"0" desc:"0-based page number (default 0)"`
	Size *int   `json:"size,omitempty" min:"1" max:"200" desc:"page size, 1 to 200 (default 10, Pax8's default)"`
	All  bool   `json:"all,omitempty" desc:"walk every page (200 items a page) and return up to 10000 items; excludes page"`
	Sort string `json:"sort,omitempty" desc:"field, or field,asc|desc"`
}

func (p *Paging) paging() *Paging { return p }

// options returns the pax8 list options for one page.
func (p *Paging) options() pax8.ListOptions {
	o := pax8.ListOptions{Sort: p.Sort}
	if p.Page != nil {
		o.Page = *p.Page
	}
	if p.Size != nil {
		o.Size = *p.Size
	}
	return o
}

// ListResult is the output of a list action: one page, or with all every
// item up to [MaxAllItems] (then Page describes what was returned, and
// Truncated says the list went on).
type ListResult[T any] struct {
	Content   []T           `json:"content"`
	Page      pax8.PageInfo `json:"page"`
	Truncated bool          `json:"truncated,omitempty"`
}

// MaxAllItems is the most items a list action returns with all: true. It
// bounds the answer at a few megabytes; page through larger lists.
const MaxAllItems = 10000

type pager interface{ paging() *Paging }

// defineList builds a list action from a one-page function and an
// iterator over every page.
func defineList[In any, T any, PIn interface {
	*In
	pager
}](name, desc, path string,
	list func(ctx context.Context, c *pax8.Client, in *In, o pax8.ListOptions) (*pax8.Page[T], error),
	all func(ctx context.Context, c *pax8.Client, in *In, o pax8.ListOptions) func(yield func(T, error) bool),
) Action {
	a := define(name, desc, http.MethodGet, path, func(context.Context, *pax8.Client, *In) (ListResult[T], error) {
		panic("unreachable")
	})
	a.Paged = true
	a.run = func(ctx context.Context, c *pax8.Client, raw []byte, maxAll int) (any, error) {
		in := new(In)
		if err := decodeInput(raw, in); err != nil {
			return nil, err
		}
		p := PIn(in).paging()
		o := p.options()
		if !p.All {
			page, err := list(ctx, c, in, o)
			if err != nil {
				return nil, err
			}
			return ListResult[T]{Content: nonNil(page.Content), Page: page.Page}, nil
		}
		if p.Page != nil {
			return nil, &InputError{Field: "page", Msg: "cannot be combined with all"}
		}
		o.Size = cmp.Or(o.Size, pax8.MaxPageSize)
		out := ListResult[T]{Content: []T{}}
		for item, err := range all(ctx, c, in, o) {
			if err != nil {
				return nil, err
			}
			if len(out.Content) == maxAll {
				out.Truncated = true
				break
			}
			out.Content = append(out.Content, item)
		}
		n := len(out.Content)
		out.Page = pax8.PageInfo{Size: n, TotalElements: n, TotalPages: min(n, 1), Number: 0}
		return out, nil
	}
	return a
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var catalogue = pax8Actions()

// Catalogue returns every action, sorted by name. The slice is a copy.
func Catalogue() []Action { return slices.Clone(catalogue) }

// Lookup returns the action with the given name.
func Lookup(name string) (Action, bool) {
	i, ok := slices.BinarySearchFunc(catalogue, name, func(a Action, n string) int { return strings.Compare(a.Name, n) })
	if !ok {
		return Action{}, false
	}
	return catalogue[i], true
}

// ErrUnknownAction is returned by [Runner.Run] for a name not in the
// catalogue.
var ErrUnknownAction = errors.New("unknown action")

// Options configures a [Runner]. Tokens and Providers are required.
type Options struct {
	Tokens    upstream.Tokens
	Providers *provider.Registry
	// Base sends the upstream requests (default [upstream.NewBaseTransport]()).
	Base http.RoundTripper
	// Logger receives the pax8 client's retries and forced refreshes.
	Logger *slog.Logger
	// Concurrency bounds the pages fetched at once by all: true (default 4).
	Concurrency int
	// MaxRetries is the pax8 client's retry budget for 429s and idempotent
	// failures (default pax8.DefaultMaxRetries).
	MaxRetries *int
	// MaxAll overrides [MaxAllItems] (for tests).
	MaxAll int

	// Store keeps idempotency keys; without it a write with a key fails.
	Store store.Store
	// Now is the clock of idempotency keys (default time.Now).
	Now func() time.Time
	// Owner names this process in idempotency leases (default: the host
	// name).
	Owner string
	// IdempotencyTTL, IdempotencyLease and IdempotencyWait override
	// [DefaultIdempotencyTTL], [DefaultIdempotencyLease] and
	// [DefaultIdempotencyWait].
	IdempotencyTTL, IdempotencyLease, IdempotencyWait time.Duration
}

// Runner runs actions for tenants' connections. It is safe for concurrent
// use.
type Runner struct {
	tokens    upstream.Tokens
	providers *provider.Registry
	hc        *http.Client
	log       *slog.Logger
	opts      Options

	purgeMu sync.Mutex
	purged  time.Time // last PurgeIdempotency
}

// New returns a Runner.
func New(opts Options) (*Runner, error) {
	if opts.Tokens == nil || opts.Providers == nil {
		return nil, errors.New("action: Options.Tokens and Options.Providers are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Concurrency = cmp.Or(opts.Concurrency, 4)
	opts.MaxAll = cmp.Or(opts.MaxAll, MaxAllItems)
	opts.IdempotencyTTL = cmp.Or(opts.IdempotencyTTL, DefaultIdempotencyTTL)
	opts.IdempotencyLease = cmp.Or(opts.IdempotencyLease, DefaultIdempotencyLease)
	opts.IdempotencyWait = cmp.Or(opts.IdempotencyWait, DefaultIdempotencyWait)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Owner == "" {
		opts.Owner, _ = os.Hostname()
	}
	t := &upstream.Transport{Tokens: opts.Tokens, Providers: opts.Providers, Base: opts.Base, Logger: opts.Logger}
	return &Runner{tokens: opts.Tokens, providers: opts.Providers, hc: &http.Client{Transport: t}, log: opts.Logger, opts: opts}, nil
}

// Run runs the named action on tenantID's connection connID with a JSON
// input, and returns its JSON-ready result. Errors: [ErrUnknownAction];
// *[InputError] before any upstream request; a broker error for an unknown,
// foreign (SEC-43) or broken connection; *[pax8.Error] for Pax8's answers.
func (rn *Runner) Run(ctx context.Context, tenantID, connID, name string, input []byte) (any, error) {
	a, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAction, name)
	}
	c, err := rn.client(ctx, a, tenantID, connID, rn.opts.MaxRetries)
	if err != nil {
		return nil, err
	}
	return a.run(c.ctx, c.pax8, input, rn.opts.MaxAll)
}

// boundClient is a pax8 client for one connection, with the context that
// carries its token.
type boundClient struct {
	ctx  context.Context
	pax8 *pax8.Client
}

// client returns the pax8 client for tenantID's connection connID, after
// checking that action a can run on it; retries overrides the client's
// retry budget.
func (rn *Runner) client(ctx context.Context, a Action, tenantID, connID string, retries *int) (boundClient, error) {
	tok, err := rn.tokens.TenantToken(ctx, tenantID, connID)
	if err != nil {
		return boundClient{}, err
	}
	p, ok := rn.providers.Get(tok.Provider)
	if !ok || (p.Name != a.Provider && !strings.HasPrefix(p.Name, a.Provider+"-")) {
		return boundClient{}, &InputError{Msg: fmt.Sprintf("action %s needs a %s connection", a.Name, a.Provider)}
	}
	opts := []pax8.Option{pax8.WithBaseURL(p.API.BaseURL), pax8.WithConcurrency(rn.opts.Concurrency), pax8.WithLogger(rn.log)}
	if retries != nil {
		opts = append(opts, pax8.WithMaxRetries(*retries))
	}
	return boundClient{ctx: upstream.WithToken(ctx, tok), pax8: pax8.NewClient(rn.hc, opts...)}, nil
}

func isBroker(err error) bool {
	_, ok := errors.AsType[*broker.Error](err)
	return ok
}
