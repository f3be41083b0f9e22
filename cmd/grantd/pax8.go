package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/grantd/grantd/internal/table"
	"io"
	"slices"
	"strconv"
	"strings"

	grantd "github.com/grantd/grantd/client"
)

// pax8Verb maps "grantd pax8 <resource> <verb>" to an action: its
// positional arguments fill the named input fields, and columns pick the
// fields the table and CSV outputs show.
type pax8Verb struct {
	resource, verb string
	action         string
	args           []string
	columns        []string
}

var (
	companyColumns      = []string{"id", "name", "status", "phone", "website"}
	contactColumns      = []string{"id", "firstName", "lastName", "email"}
	productColumns      = []string{"id", "name", "vendorName", "sku", "requiresCommitment"}
	orderColumns        = []string{"id", "companyId", "createdDate", "orderedBy"}
	subscriptionColumns = []string{"id", "companyId", "productName", "quantity", "status", "billingTerm"}
	invoiceColumns      = []string{"id", "invoiceDate", "dueDate", "status", "total", "balance"}
)

var pax8Verbs = []pax8Verb{
	{"companies", "list", "pax8.list_companies", nil, companyColumns},
	{"companies", "get", "pax8.get_company", []string{"company_id"}, companyColumns},
	{"companies", "create", "pax8.create_company", nil, companyColumns},
	{"contacts", "list", "pax8.list_company_contacts", []string{"company_id"}, contactColumns},
	{"contacts", "get", "pax8.get_company_contact", []string{"company_id", "contact_id"}, contactColumns},
	{"products", "list", "pax8.list_products", nil, productColumns},
	{"products", "get", "pax8.get_product", []string{"product_id"}, productColumns},
	{"products", "provision-details", "pax8.get_product_provision_details", []string{"product_id"}, []string{"key", "label", "valueType", "description"}},
	{"orders", "list", "pax8.list_orders", nil, orderColumns},
	{"orders", "get", "pax8.get_order", []string{"order_id"}, orderColumns},
	{"orders", "create", "pax8.create_order", nil, orderColumns},
	{"subscriptions", "list", "pax8.list_subscriptions", nil, subscriptionColumns},
	{"subscriptions", "get", "pax8.get_subscription", []string{"subscription_id"}, subscriptionColumns},
	{"subscriptions", "update", "pax8.update_subscription", []string{"subscription_id"}, subscriptionColumns},
	{"subscriptions", "cancel", "pax8.cancel_subscription", []string{"subscription_id"}, []string{"subscription_id", "cancelled"}},
	{"invoices", "list", "pax8.list_invoices", nil, invoiceColumns},
	{"invoices", "get", "pax8.get_invoice", []string{"invoice_id"}, invoiceColumns},
	{"invoices", "items", "pax8.list_invoice_items", []string{"invoice_id"}, []string{"id", "companyName", "productName", "quantity", "total"}},
}

// pax8Writes are the verbs whose actions are writes, which take an
// idempotency key.
var pax8Writes = []string{"create", "update", "cancel"}

func pax8Usage() string {
	var b strings.Builder
	b.WriteString("grantd pax8 <resource> <verb> [ARGS] [--connection ID] [flags]\n")
	b.WriteString("(--connection may be left out when the tenant has one active Pax8 connection)\n\n")
	for _, v := range pax8Verbs {
		var args strings.Builder
		for _, a := range v.args {
			args.WriteString(" " + strings.ToUpper(a))
		}
		fmt.Fprintf(&b, "  %-14s %-18s %-34s (%s)\n", v.resource, v.verb, strings.TrimSpace(args.String()), v.action)
	}
	b.WriteString("  reconcile      --period YYYY-MM [--billing FILE.csv|FILE.jsonl] [--flagged] [--output table|csv|json]\n")
	return b.String()
}

// cmdPax8 runs one Pax8 action through a grantd server's HTTP API. With
// --all it pages through the list itself, --size items a call (default
// 200), so that it can show a progress bar on stderr when stderr is a
// terminal, and a one-line summary otherwise. Without --all it prints one
// page and, when there are more, says so on stderr.
func cmdPax8(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "reconcile" {
		return cmdPax8Reconcile(ctx, e, args[1:])
	}
	fs := newFlags(e, "pax8")
	rf := addRemoteFlags(fs, e)
	conn := fs.String("connection", "", "connection id; if empty, $GRANTD_CONNECTION, else the one active Pax8 connection")
	output := fs.String("output", "table", "output format: table, json or csv")
	all := fs.Bool("all", false, "list every page")
	page := fs.Int("page", -1, "page number, from 0 (lists)")
	size := fs.Int("size", 0, "page size, 1 to 200 (lists)")
	input := fs.String("input", "", `extra action input as a JSON object, e.g. '{"status":"Active"}'`)
	key := fs.String("idempotency-key", "", "write verbs: do the write at most once for this key (a repeat within 24 hours gets the first answer)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, "usage: "+pax8Usage()+"\nflags:\n")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if rf.asJSON {
		*output = "json"
	}
	if len(pos) < 2 {
		return usagef("want a resource and a verb\n%s", pax8Usage())
	}
	i := slices.IndexFunc(pax8Verbs, func(v pax8Verb) bool { return v.resource == pos[0] && v.verb == pos[1] })
	if i < 0 {
		return usagef("unknown command %q\n%s", pos[0]+" "+pos[1], pax8Usage())
	}
	v := pax8Verbs[i]
	if len(pos)-2 != len(v.args) {
		return usagef("%s %s takes %d argument(s): %s", v.resource, v.verb, len(v.args), strings.ToUpper(strings.Join(v.args, " ")))
	}
	switch *output {
	case "table", "json", "csv":
	default:
		return usagef("--output must be table, json or csv")
	}
	in := map[string]any{}
	if *input != "" {
		dec := json.NewDecoder(strings.NewReader(*input))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			return usagef("--input is not a JSON object: %v", err)
		}
	}
	for j, name := range v.args {
		in[name] = pos[2+j]
	}
	list := strings.Contains(v.action, ".list_")
	if *key != "" && !slices.Contains(pax8Writes, v.verb) {
		return usagef("--idempotency-key applies to the write verbs only: %s", strings.Join(pax8Writes, ", "))
	}
	if !list && (*all || *page >= 0 || *size != 0) {
		return usagef("--all, --page and --size apply to lists only")
	}
	if *page >= 0 {
		in["page"] = *page
	}
	if *size != 0 {
		in["size"] = *size
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	if *conn == "" {
		*conn = e.getenv("GRANTD_CONNECTION")
	}
	if *conn == "" {
		if *conn, err = onlyPax8Connection(ctx, c); err != nil {
			return err
		}
	}
	run := func(in map[string]any) (json.RawMessage, error) {
		var (
			out json.RawMessage
			err error
		)
		if *key == "" {
			err = c.RunAction(ctx, *conn, v.action, in, &out)
		} else {
			var replayed bool
			replayed, err = c.RunActionWithKey(ctx, *conn, v.action, *key, in, &out)
			if replayed {
				fmt.Fprintln(e.stderr, "replayed: the answer of the first request with this --idempotency-key; Pax8 was not called again")
			}
		}
		if err != nil {
			return nil, needsTenant(err, *conn)
		}
		return out, nil
	}

	if !list {
		res, err := run(in)
		if err != nil {
			return err
		}
		return printResult(e.stdout, *output, v.columns, res, false)
	}
	var items []json.RawMessage
	if *all {
		if *page >= 0 {
			return usagef("--all and --page cannot be combined")
		}
		items, err = walkPages(e, v.resource, in, run)
	} else {
		var p listPage
		res, rerr := run(in)
		if rerr != nil {
			return rerr
		}
		err = json.Unmarshal(res, &p)
		items = p.Content
		if err == nil && p.Page.Number+1 < p.Page.TotalPages {
			fmt.Fprintf(e.stderr, "showing %d of %d %s (page %d of pages 0 to %d); --all lists every page\n",
				len(p.Content), p.Page.TotalElements, v.resource, p.Page.Number, p.Page.TotalPages-1)
		}
	}
	if err != nil {
		return err
	}
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return printResult(e.stdout, *output, v.columns, b, true)
}

// listPage is a list action's result.
type listPage struct {
	Content []json.RawMessage `json:"content"`
	Page    struct {
		Size          int `json:"size"`
		TotalElements int `json:"totalElements"`
		TotalPages    int `json:"totalPages"`
		Number        int `json:"number"`
	} `json:"page"`
}

// walkPages fetches every page of a list, one call per page.
func walkPages(e *env, noun string, in map[string]any, run func(map[string]any) (json.RawMessage, error)) ([]json.RawMessage, error) {
	if _, ok := in["size"]; !ok {
		in["size"] = 200
	}
	tty := isTerminal(e.stderr)
	items := []json.RawMessage{} // an empty list prints [], not null
	pages := 0
	for n := 0; ; n++ {
		in["page"] = n
		res, err := run(in)
		if err != nil {
			if tty {
				fmt.Fprintln(e.stderr)
			}
			return nil, err
		}
		var p listPage
		if err := json.Unmarshal(res, &p); err != nil {
			return nil, fmt.Errorf("decode page %d: %w", n, err)
		}
		items = append(items, p.Content...)
		pages++
		if tty {
			fmt.Fprint(e.stderr, "\r"+progressBar(pages, p.Page.TotalPages, len(items), p.Page.TotalElements, noun))
		}
		if len(p.Content) == 0 || n+1 >= p.Page.TotalPages {
			break
		}
	}
	if tty {
		fmt.Fprintln(e.stderr)
	} else {
		unit := "pages"
		if pages == 1 {
			unit = "page"
		}
		fmt.Fprintf(e.stderr, "fetched %d %s in %d %s\n", len(items), noun, pages, unit)
	}
	return items, nil
}

// progressBar draws "[#####.....] 5/10 pages, 1000/2000 companies".
func progressBar(done, total, items, totalItems int, noun string) string {
	const width = 30
	filled := width
	if total > 0 {
		filled = min(width, done*width/total)
	}
	return fmt.Sprintf("[%s%s] %d/%d pages, %d/%d %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, items, totalItems, noun)
}

// printResult writes an action's result: JSON as is (indented), or the
// chosen columns of each item as a table or CSV.
func printResult(w io.Writer, format string, columns []string, res json.RawMessage, list bool) error {
	if format == "json" {
		var out bytes.Buffer
		if err := json.Indent(&out, res, "", "  "); err != nil {
			return fmt.Errorf("format result: %w", err)
		}
		out.WriteByte('\n')
		_, err := w.Write(out.Bytes())
		return err
	}
	var rows []map[string]any
	dec := json.NewDecoder(bytes.NewReader(res))
	dec.UseNumber()
	if list {
		if err := dec.Decode(&rows); err != nil {
			return fmt.Errorf("decode result: %w", err)
		}
	} else {
		var one any
		if err := dec.Decode(&one); err != nil {
			return fmt.Errorf("decode result: %w", err)
		}
		switch one := one.(type) {
		case map[string]any:
			rows = []map[string]any{one}
		case []any:
			for _, r := range one {
				if m, ok := r.(map[string]any); ok {
					rows = append(rows, m)
				}
			}
		}
	}
	if format == "csv" {
		cw := csv.NewWriter(w)
		cw.Write(columns)
		for _, r := range rows {
			rec := make([]string, len(columns))
			for i, c := range columns {
				rec[i] = cell(r[c])
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	}
	header := make([]string, len(columns))
	for i, c := range columns {
		header[i] = strings.ToUpper(c)
	}
	t := table.New(w, header...)
	for _, r := range rows {
		rec := make([]string, len(columns))
		for i, c := range columns {
			rec[i] = cell(r[c])
		}
		t.Row(rec...)
	}
	return t.Flush()
}

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// onlyPax8Connection returns the id of the tenant's one active Pax8
// connection, for a command given no --connection; with none or several
// it says how to choose.
func onlyPax8Connection(ctx context.Context, c *grantd.Client) (string, error) {
	list, err := c.Connections(ctx, grantd.ListOptions{Status: grantd.StatusActive})
	if err != nil {
		return "", err
	}
	var ids []string
	for _, cn := range list {
		if strings.HasPrefix(cn.Provider, "pax8") && cn.Status == "active" {
			ids = append(ids, cn.ID)
		}
	}
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
		return "", usagef("no active Pax8 connection: connect one first (grantd connect), or pass --connection")
	default:
		return "", usagef("%d active Pax8 connections (%s): pass --connection or set GRANTD_CONNECTION", len(ids), strings.Join(ids, ", "))
	}
}
