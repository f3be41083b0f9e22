package pax8api

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging limits from the Pax8 partner API: "Default page is 0 and default
// size is 10. The maximum page size is 200".
const (
	defaultPageSize = 10
	maxPageSize     = 200
)

// pageInfo is the "page" member of Pax8's paged envelope.
type pageInfo struct {
	Size          int `json:"size"`
	TotalElements int `json:"totalElements"`
	TotalPages    int `json:"totalPages"`
	Number        int `json:"number"`
}

// paged is the envelope of every partner list endpoint:
// {"content":[…],"page":{…}}.
type paged[T any] struct {
	Content []T      `json:"content"`
	Page    pageInfo `json:"page"`
}

// wrapped is the non-paged {"content":[…]} wrapper used by pricing,
// provision details and subscription history.
type wrapped[T any] struct {
	Content []T `json:"content"`
}

// pageRequest is a validated page and size.
type pageRequest struct {
	Number, Size int
}

// parsePage reads page (0-based, default 0) and size (default 10, 1..200)
// from q. Anything else is a 400, as on Pax8.
func parsePage(q url.Values) (pageRequest, error) {
	p := pageRequest{Size: defaultPageSize}
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, badParam("Invalid value for parameter page: %q", s)
		}
		p.Number = n
	}
	if s := q.Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			return p, badParam("Invalid value for parameter size: %q; size must be between 1 and %d", s, maxPageSize)
		}
		p.Size = n
	}
	return p, nil
}

// pageOf copies the requested page of items (already filtered and sorted)
// into a paged envelope. A page past the end is empty but keeps the totals.
// Callers hold the dataset's read lock, since the copies are taken here.
func pageOf[T any](items []*T, p pageRequest) paged[T] {
	total := len(items)
	out := paged[T]{
		Content: []T{},
		Page: pageInfo{
			Size:          p.Size,
			TotalElements: total,
			TotalPages:    (total + p.Size - 1) / p.Size,
			Number:        p.Number,
		},
	}
	if p.Number >= out.Page.TotalPages {
		return out
	}
	start := p.Number * p.Size
	end := min(start+p.Size, total)
	out.Content = make([]T, 0, end-start)
	for _, it := range items[start:end] {
		out.Content = append(out.Content, *it)
	}
	return out
}

// sortKeys maps the field names a list accepts in sort=field,direction to a
// comparison.
type sortKeys[T any] map[string]func(a, b *T) int

// sortBy orders items in place by q's sort parameter ("name" or
// "name,desc"), stably, so that equal keys keep their natural order. An
// unknown field or direction is a 400.
func sortBy[T any](items []*T, q url.Values, keys sortKeys[T]) error {
	s := q.Get("sort")
	if s == "" {
		return nil
	}
	field, dir, _ := strings.Cut(s, ",")
	less, ok := keys[field]
	if !ok {
		return badParam("Invalid sort field: %q", field)
	}
	desc := false
	switch strings.ToLower(dir) {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return badParam("Invalid sort direction: %q", dir)
	}
	slices.SortStableFunc(items, func(a, b *T) int {
		if desc {
			return less(b, a)
		}
		return less(a, b)
	})
	return nil
}

// byString and byNumber build sort comparisons from field accessors.
func byString[T any](f func(*T) string) func(a, b *T) int {
	return func(a, b *T) int { return cmp.Compare(strings.ToLower(f(a)), strings.ToLower(f(b))) }
}

func byNumber[T any, N cmp.Ordered](f func(*T) N) func(a, b *T) int {
	return func(a, b *T) int { return cmp.Compare(f(a), f(b)) }
}

// parseBool reads an optional boolean filter; ok is false when it is absent.
func parseBool(q url.Values, name string) (v, ok bool, err error) {
	s := q.Get(name)
	if s == "" {
		return false, false, nil
	}
	v, perr := strconv.ParseBool(s)
	if perr != nil {
		return false, false, badParam("Invalid value for parameter %s: %q", name, s)
	}
	return v, true, nil
}

// oneOf checks an optional enum filter; an empty value passes.
func oneOf(q url.Values, name string, allowed ...string) (string, error) {
	s := q.Get(name)
	if s == "" || slices.Contains(allowed, s) {
		return s, nil
	}
	return "", badParam("Invalid value for parameter %s: %q", name, s)
}
