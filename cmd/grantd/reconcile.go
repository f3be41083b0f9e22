package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	grantd "github.com/grantd/grantd/client"
	"github.com/grantd/grantd/internal/reconcile"
	"github.com/grantd/grantd/internal/table"
)

// cmdPax8Reconcile is "grantd pax8 reconcile --period YYYY-MM
// --connection ID [--billing FILE] [--output table|csv|json]": it uploads
// the tenant's billing for the period when --billing names a file (CSV, or
// JSON lines for .jsonl/.ndjson), then reconciles the connection for the
// period through the API and prints the lines. Progress goes to stderr.
func cmdPax8Reconcile(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "pax8 reconcile")
	rf := addRemoteFlags(fs, e)
	conn := fs.String("connection", e.getenv("GRANTD_CONNECTION"), "connection id (default $GRANTD_CONNECTION)")
	periodFlag := fs.String("period", "", "month to reconcile, YYYY-MM")
	billing := fs.String("billing", "", "upload this billing file for the period first (CSV, or JSON lines: .jsonl/.ndjson)")
	output := fs.String("output", "table", "output format: table, csv or json")
	flagged := fs.Bool("flagged", false, "print only the lines that are not matched")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if rf.asJSON {
		*output = "json"
	}
	if len(pos) != 0 {
		return usagef("unexpected arguments %q", pos)
	}
	period, err := reconcile.ParsePeriod(*periodFlag)
	if err != nil {
		return usagef("--period: %v", err)
	}
	if *conn == "" {
		return usagef("--connection is required")
	}
	switch *output {
	case "table", "csv", "json":
	default:
		return usagef("--output must be table, csv or json")
	}
	if _, err := rf.client(e); err != nil { // the usual checks of --server and --key
		return err
	}
	c := newRawClient(rf, e)
	if *billing != "" {
		n, err := uploadBilling(ctx, c, period, *billing)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "uploaded %d billing lines for %s\n", n, period)
	}
	start := time.Now()
	rep, err := streamReconcile(ctx, c, *conn, period, func(stage string, n int) {
		fmt.Fprintf(e.stderr, "walking Pax8: %d %s\n", n, stage)
	})
	if err != nil {
		return err
	}
	w := rep.Walked
	fmt.Fprintf(e.stderr, "walked %d companies, %d subscriptions, %d invoices, %d invoice items in %s\n",
		w.Companies, w.Subscriptions, w.Invoices, w.InvoiceItems, time.Since(start).Round(time.Millisecond))
	lines := rep.Lines
	if *flagged {
		lines = rep.Flagged()
	}
	switch *output {
	case "json":
		rep.Lines = lines
		return writeJSON(e.stdout, rep)
	case "csv":
		cw := csv.NewWriter(e.stdout)
		cw.Write([]string{"category", "company_id", "company_name", "org_id", "product_id", "product_name", "product_key",
			"subscription_quantity", "charged_quantity", "billed_quantity", "unit_cost", "unit_price", "charged", "billed", "at_stake", "currency", "detail"})
		for _, l := range lines {
			cw.Write([]string{string(l.Category), l.CompanyID, l.CompanyName, l.OrgID, l.ProductID, l.ProductName, l.ProductKey,
				l.SubscriptionQuantity.String(), l.ChargedQuantity.String(), l.BilledQuantity.String(),
				l.UnitCost.Amount.String(), l.UnitPrice.Amount.String(), l.Charged.Amount.String(), l.Billed.Amount.String(),
				l.AtStake.Amount.String(), rep.Currency, l.Detail})
		}
		cw.Flush()
		return cw.Error()
	}
	t := table.New(e.stdout, "CATEGORY", "COMPANY", "PRODUCT", "SEATS SUB/CHG/BILL", "CHARGED", "BILLED", "AT STAKE")
	for _, l := range lines {
		t.Row(string(l.Category), cmpOr(l.CompanyName, l.CompanyID, l.OrgID), cmpOr(l.ProductName, l.ProductKey, l.ProductID),
			l.SubscriptionQuantity.String()+"/"+l.ChargedQuantity.String()+"/"+l.BilledQuantity.String(),
			l.Charged.Amount.StringFixed(2), l.Billed.Amount.StringFixed(2), l.AtStake.Amount.StringFixed(2))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n%s %s: charged %s, billed %s, margin %s, at stake %s\n", period, rep.Currency,
		rep.Charged.Amount.StringFixed(2), rep.Billed.Amount.StringFixed(2), rep.Margin.Amount.StringFixed(2), rep.AtStake.Amount.StringFixed(2))
	for _, tot := range rep.Totals {
		if tot.Lines > 0 {
			fmt.Fprintf(e.stdout, "  %-22s %4d lines  %s\n", tot.Category, tot.Lines, tot.AtStake.Amount.StringFixed(2))
		}
	}
	return nil
}

func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// uploadBilling PUTs the file as the period's billing and returns the
// number of lines stored. A refused upload's problems are listed, one a
// line.
func uploadBilling(ctx context.Context, c *rawClient, period reconcile.Period, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	ct := "text/csv"
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		ct = "application/x-ndjson"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/v1/billing/"+period.String(), f)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", ct)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", path, err)
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error grantd.Error `json:"error"`
		}
		_ = json.Unmarshal(b, &env)
		env.Error.Status = resp.StatusCode
		msg := env.Error.Error()
		for _, d := range env.Error.Details {
			msg += "\n  " + path + ": " + d.Message
		}
		return 0, fmt.Errorf("upload %s: %s", path, msg)
	}
	var out struct{ Lines []json.RawMessage }
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, fmt.Errorf("upload %s: decode answer: %w", path, err)
	}
	return len(out.Lines), nil
}

// streamReconcile asks for the reconciliation as JSON lines, so that the
// walk's progress can be shown as it happens, and returns the report.
func streamReconcile(ctx context.Context, c *rawClient, conn string, period reconcile.Period, progress func(string, int)) (*reconcile.Report, error) {
	path := "/v1/connections/" + url.PathEscape(conn) + "/reconciliation?period=" + period.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/x-ndjson")
	hc := *c.hc
	hc.Timeout = 0 // a walk of a large partner takes minutes; ctx bounds it
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var env struct {
			Error grantd.Error `json:"error"`
		}
		_ = json.Unmarshal(b, &env)
		env.Error.Status = resp.StatusCode
		return nil, fmt.Errorf("GET %s: %w", path, &env.Error)
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var line struct {
			Progress *struct {
				Stage string `json:"stage"`
				Count int    `json:"count"`
			} `json:"progress"`
			Report *reconcile.Report `json:"report"`
			Error  *grantd.Error     `json:"error"`
		}
		if err := dec.Decode(&line); err != nil {
			return nil, fmt.Errorf("GET %s: reading the answer: %w", path, err)
		}
		switch {
		case line.Progress != nil:
			progress(line.Progress.Stage, line.Progress.Count)
		case line.Error != nil:
			line.Error.Status = resp.StatusCode
			return nil, fmt.Errorf("GET %s: %w", path, line.Error)
		case line.Report != nil:
			return line.Report, nil
		}
	}
}

// rawClient sends the reconciliation's requests that the typed client
// has no method for (a file upload, a JSON lines answer) with the same
// server and key. It never prints the key.
type rawClient struct {
	base, key string
	hc        *http.Client
}

func (c *rawClient) String() string { return "rawClient{" + c.base + " key=REDACTED}" }

func newRawClient(rf *remoteFlags, e *env) *rawClient {
	c := &rawClient{base: rf.server, key: rf.key, hc: &http.Client{Timeout: 5 * time.Minute}}
	if c.base == "" {
		c.base = e.getenv("GRANTD_URL")
	}
	if c.key == "" {
		c.key = e.getenv("GRANTD_API_KEY")
	}
	c.base = strings.TrimRight(c.base, "/")
	return c
}
