package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/grantd/grantd/internal/table"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	grantd "github.com/grantd/grantd/client"
)

// cmdOrgs is "grantd orgs import FILE": it uploads the tenant's own
// organisations, replacing the previous list.
func cmdOrgs(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "orgs")
	rf := addRemoteFlags(fs, e)
	output := rf.addOutputFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	format, err := rf.format(output)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "import" {
		return usagef("want: import FILE.csv|FILE.json")
	}
	orgs, err := readOrganizations(pos[1])
	if err != nil {
		return err
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	stored, err := c.PutOrganizations(ctx, orgs)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(e.stdout, struct {
			Organizations []grantd.Organization `json:"organizations"`
		}{stored})
	}
	fmt.Fprintf(e.stdout, "imported %d organizations\n", len(stored))
	return nil
}

// readOrganizations reads a CSV file (columns id,name; a header row with
// those names is skipped) or a JSON file ({"organizations":[…]} or a bare
// array of {"id","name"}), chosen by the extension.
func readOrganizations(path string) ([]grantd.Organization, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	orgs := []grantd.Organization{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		trimmed := bytes.TrimSpace(b)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			err = json.Unmarshal(trimmed, &orgs)
		} else {
			var doc struct {
				Organizations []grantd.Organization `json:"organizations"`
			}
			err = json.Unmarshal(trimmed, &doc)
			orgs = doc.Organizations
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	case ".csv":
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		r.TrimLeadingSpace = true
		for line := 1; ; line++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
			if line == 1 && len(rec) >= 2 && strings.EqualFold(rec[0], "id") && strings.EqualFold(rec[1], "name") {
				continue
			}
			if len(rec) != 2 {
				return nil, fmt.Errorf("read %s: line %d has %d fields, want 2 (id,name)", path, line, len(rec))
			}
			orgs = append(orgs, grantd.Organization{ID: rec[0], Name: rec[1]})
		}
	default:
		return nil, usagef("%s: want a .csv or .json file", path)
	}
	return orgs, nil
}

// cmdMappings is "grantd mappings show|set|accept-suggestions".
func cmdMappings(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "mappings")
	rf := addRemoteFlags(fs, e)
	conn := fs.String("connection", "", "connection id (required)")
	output := fs.String("output", "table", "output format for show: table, json or csv")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want show, set or accept-suggestions")
	}
	if *conn == "" {
		return usagef("--connection is required")
	}
	if rf.asJSON {
		*output = "json"
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	switch verb := pos[0]; verb {
	case "show":
		if len(pos) != 1 {
			return usagef("show takes no arguments")
		}
		if *output != "table" && *output != "json" && *output != "csv" {
			return usagef("--output must be table, json or csv")
		}
		res, err := c.OrgMappings(ctx, *conn, false)
		if err != nil {
			return needsTenant(err, *conn)
		}
		return printMappings(e.stdout, res, *output)
	case "set":
		if len(pos) != 3 {
			return usagef("want: set COMPANY_ID ORG_ID")
		}
		m, err := c.PutOrgMapping(ctx, *conn, pos[1], pos[2])
		if err != nil {
			return needsTenant(err, *conn)
		}
		if *output == "json" {
			return writeJSON(e.stdout, m)
		}
		fmt.Fprintf(e.stdout, "mapped %s (%s) to %s (%s)\n", m.CompanyName, m.CompanyID, m.OrgName, m.OrgID)
		return nil
	case "accept-suggestions":
		if len(pos) != 1 {
			return usagef("accept-suggestions takes no arguments")
		}
		mappings, err := c.AcceptOrgMappingSuggestions(ctx, *conn, nil)
		if err != nil {
			return needsTenant(err, *conn)
		}
		if *output == "json" {
			return writeJSON(e.stdout, struct {
				Mappings []grantd.OrgMapping `json:"mappings"`
			}{mappings})
		}
		for _, m := range mappings {
			fmt.Fprintf(e.stdout, "mapped %s (%s) to %s (%s)\n", m.CompanyName, m.CompanyID, m.OrgName, m.OrgID)
		}
		fmt.Fprintf(e.stdout, "accepted %d suggestions\n", len(mappings))
		return nil
	default:
		return usagef("unknown verb %q; want show, set or accept-suggestions", verb)
	}
}

// printMappings writes the mapping state as a table, JSON, or CSV with one
// row per company or organisation and its state.
func printMappings(w io.Writer, res grantd.OrgMappings, output string) error {
	type row struct{ state, companyID, company, orgID, org, score string }
	var rows []row
	for _, m := range res.Mappings {
		rows = append(rows, row{"mapped", m.CompanyID, m.CompanyName, m.OrgID, m.OrgName, ""})
	}
	for _, s := range res.Suggestions {
		rows = append(rows, row{"suggested", s.CompanyID, s.CompanyName, s.OrgID, s.OrgName, strconv.FormatFloat(s.Score, 'f', 2, 64)})
	}
	suggested := map[string]bool{}
	for _, s := range res.Suggestions {
		suggested[s.CompanyID] = true
	}
	for _, c := range res.UnmappedCompanies {
		if !suggested[c.ID] {
			rows = append(rows, row{"unmapped_company", c.ID, c.Name, "", "", ""})
		}
	}
	for _, o := range res.UnmappedOrganizations {
		rows = append(rows, row{"unmapped_organization", "", "", o.ID, o.Name, ""})
	}
	switch output {
	case "json":
		return writeJSON(w, res)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"state", "company_id", "company_name", "org_id", "org_name", "score"})
		for _, r := range rows {
			cw.Write([]string{r.state, r.companyID, r.company, r.orgID, r.org, r.score})
		}
		cw.Flush()
		return cw.Error()
	}
	t := table.New(w, "STATE", "COMPANY ID", "COMPANY", "ORG ID", "ORGANISATION", "SCORE")
	for _, r := range rows {
		t.Row(r.state, r.companyID, r.company, r.orgID, r.org, r.score)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d mapped, %d suggested, %d companies and %d organisations unmapped\n",
		len(res.Mappings), len(res.Suggestions), len(res.UnmappedCompanies), len(res.UnmappedOrganizations))
	return err
}
