package pax8api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// maxBody caps request bodies; Pax8 bodies are a few kilobytes.
const maxBody = 1 << 20

// decodeBody reads r's JSON body into v. A missing, oversized or malformed
// body is a 400, as on Pax8; unknown fields are ignored, as Pax8 does.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("Required request body is missing")
		}
		return badRequest("Malformed JSON request body: %s", jsonProblem(err))
	}
	if dec.More() {
		return badRequest("Malformed JSON request body: unexpected data after the JSON value")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return "field " + te.Field + " has the wrong type"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

var (
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
	emailPattern   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// Wire formats for dates. Company updatedDate uses Pax8's offset form without
// a colon (provider facts §1.9); subscription timestamps are RFC 3339 UTC.
const (
	dateLayout        = "2006-01-02"
	offsetStampLayout = "2006-01-02T15:04:05.000-0700"
)

// mountain is the fixed -0600 offset of Pax8's examples (Denver).
var mountain = time.FixedZone("-0600", -6*60*60)

func offsetStamp(t time.Time) string { return t.In(mountain).Format(offsetStampLayout) }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func day(t time.Time) string { return t.UTC().Format(dateLayout) }

// parseTime accepts RFC 3339 (with or without fractional seconds) and Pax8's
// colon-less offset form, as its examples use both.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an RFC 3339 date-time")
}

// blank reports whether an optional string is missing or empty.
func blank(s *string) bool { return s == nil || strings.TrimSpace(*s) == "" }
