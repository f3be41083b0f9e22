package broker

import (
	"unicode"
	"unicode/utf8"

	"github.com/grantd/grantd/internal/store"
)

// Limits of the labels an application puts on a connect session.
const (
	MaxEndUserField = 256 // bytes, each of end_user's id, email and display_name
	MaxTags         = 20
	MaxTagLen       = 64 // bytes
)

// CheckLabels refuses an end user or tags that are too long, too many, not
// UTF-8 or that hold control characters (CodeInvalidRequest, naming the
// field). Tags must also be non-empty and distinct.
func CheckLabels(u store.EndUser, tags []string) error {
	for _, f := range []struct{ name, v string }{
		{"end_user.id", u.ID}, {"end_user.email", u.Email}, {"end_user.display_name", u.DisplayName},
	} {
		if err := checkLabel(f.name, f.v, MaxEndUserField); err != nil {
			return err
		}
	}
	if len(tags) > MaxTags {
		return errorf(CodeInvalidRequest, nil, "tags has %d entries, at most %d are allowed", len(tags), MaxTags)
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		if t == "" {
			return errorf(CodeInvalidRequest, nil, "tags[%d] is empty", i)
		}
		if err := checkLabel("tags", t, MaxTagLen); err != nil {
			return err
		}
		if seen[t] {
			return errorf(CodeInvalidRequest, nil, "tags[%d] repeats %q", i, t)
		}
		seen[t] = true
	}
	return nil
}

func checkLabel(name, v string, max int) error {
	if len(v) > max {
		return errorf(CodeInvalidRequest, nil, "%s is %d bytes long, at most %d are allowed", name, len(v), max)
	}
	if !utf8.ValidString(v) {
		return errorf(CodeInvalidRequest, nil, "%s is not valid UTF-8", name)
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return errorf(CodeInvalidRequest, nil, "%s holds a control character", name)
		}
	}
	return nil
}
