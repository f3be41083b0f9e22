package pax8

import (
	"context"
	"encoding/json"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
)

// MaxPageSize is the largest page Pax8 serves. A larger [ListOptions.Size]
// is clamped to it; the All methods use it unless told otherwise.
const MaxPageSize = 200

// ListOptions selects one page of a list and its order. It is embedded in
// each resource's list options. The zero value asks for Pax8's defaults:
// page 0, 10 items, unsorted.
type ListOptions struct {
	// Page is the 0-based page number. The All methods start from it.
	Page int
	// Size is the page size, 1 to [MaxPageSize]; larger values are clamped
	// and 0 means the server default (10) for List and MaxPageSize for All.
	Size int
	// Sort is "field" or "field,direction", such as "name,desc"; the
	// accepted fields are listed on each options type.
	Sort string
}

func (o ListOptions) size() int { return min(max(o.Size, 0), MaxPageSize) }

// values writes the paging parameters into q.
func (o ListOptions) values(q url.Values) {
	if o.Page > 0 {
		q.Set("page", strconv.Itoa(o.Page))
	}
	if s := o.size(); s > 0 {
		q.Set("size", strconv.Itoa(s))
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
}

// Page is one page of a list: the items and where they sit in the whole.
type Page[T any] struct {
	Content []T      `json:"content"`
	Page    PageInfo `json:"page"`
}

// HasNext reports whether a page follows this one.
func (p *Page[T]) HasNext() bool { return p.Page.Number+1 < p.Page.TotalPages }

// PageInfo is Pax8's page metadata. Number is 0-based; TotalPages is 0 for
// an empty list. Numbers sent as strings are accepted.
type PageInfo struct {
	Size          int `json:"size"`
	TotalElements int `json:"totalElements"`
	TotalPages    int `json:"totalPages"`
	Number        int `json:"number"`
}

// UnmarshalJSON implements [json.Unmarshaler], tolerating numbers as strings.
func (p *PageInfo) UnmarshalJSON(b []byte) error {
	var w struct {
		Size          flexInt `json:"size"`
		TotalElements flexInt `json:"totalElements"`
		TotalPages    flexInt `json:"totalPages"`
		Number        flexInt `json:"number"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = PageInfo{Size: int(w.Size), TotalElements: int(w.TotalElements), TotalPages: int(w.TotalPages), Number: int(w.Number)}
	return nil
}

// list fetches one page of path with the filters in q.
func list[T any](ctx context.Context, c *Client, path string, q url.Values) (*Page[T], error) {
	var p Page[T]
	if err := c.do(ctx, http.MethodGet, path, q, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// content fetches one of Pax8's unpaged {"content": [...]} wrappers.
func content[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	var w struct {
		Content []T `json:"content"`
	}
	if err := c.do(ctx, http.MethodGet, path, q, nil, &w); err != nil {
		return nil, err
	}
	return w.Content, nil
}

// activeFetchers counts page fetches running in the background; the tests
// use it to prove that stopping an iteration leaves none behind.
var activeFetchers atomic.Int64

// all walks every page of path from lo.Page on, yielding items in order and
// holding at most one page (sequential) or c.concurrency pages beyond the
// current one (concurrent) in memory. Breaking out of the loop cancels
// outstanding fetches and waits for them before returning.
func all[T any](ctx context.Context, c *Client, path string, q url.Values, lo ListOptions) iter.Seq2[T, error] {
	size := lo.size()
	if size == 0 {
		size = MaxPageSize
	}
	start := max(lo.Page, 0)
	fetch := func(ctx context.Context, n int) (*Page[T], error) {
		pq := make(url.Values, len(q)+2)
		maps.Copy(pq, q)
		pq.Set("page", strconv.Itoa(n))
		pq.Set("size", strconv.Itoa(size))
		if lo.Sort != "" {
			pq.Set("sort", lo.Sort)
		}
		return list[T](ctx, c, path, pq)
	}
	return func(yield func(T, error) bool) {
		var zero T
		first, err := fetch(ctx, start)
		if err != nil {
			yield(zero, err)
			return
		}
		for _, it := range first.Content {
			if !yield(it, nil) {
				return
			}
		}
		if len(first.Content) == 0 {
			return
		}
		if c.concurrency > 1 {
			walkConcurrent(ctx, c.concurrency, start+1, first.Page.TotalPages, fetch, yield)
			return
		}
		for n, total := start+1, first.Page.TotalPages; n < total; n++ {
			p, err := fetch(ctx, n)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range p.Content {
				if !yield(it, nil) {
					return
				}
			}
			if len(p.Content) == 0 {
				return // the list shrank under us
			}
			total = p.Page.TotalPages
		}
	}
}

type pageResult[T any] struct {
	page *Page[T]
	err  error
}

// walkConcurrent fetches pages [from, total) with at most n requests or
// unread pages outstanding, and yields their items in page order.
func walkConcurrent[T any](ctx context.Context, n, from, total int,
	fetch func(context.Context, int) (*Page[T], error), yield func(T, error) bool) {
	if from >= total {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	// window holds one channel per launched page, in page order.
	window := make([]chan pageResult[T], 0, n)
	next := from
	launch := func() {
		ch := make(chan pageResult[T], 1)
		window = append(window, ch)
		num := next
		next++
		activeFetchers.Add(1)
		wg.Go(func() {
			defer activeFetchers.Add(-1)
			p, err := fetch(ctx, num)
			ch <- pageResult[T]{p, err}
		})
	}
	for next < total && len(window) < n {
		launch()
	}
	var zero T
	for len(window) > 0 {
		res := <-window[0]
		window = window[1:]
		if res.err != nil {
			yield(zero, res.err)
			return
		}
		if next < total {
			launch() // keep n pages ahead of the one being read
		}
		for _, it := range res.page.Content {
			if !yield(it, nil) {
				return
			}
		}
	}
}
