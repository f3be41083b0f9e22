package sqlstore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// scanner is satisfied by *sql.Row and *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// timeCol scans a time column of either engine into t: NULL is the zero
// time, an INTEGER is unix microseconds (SQLite), a timestamp is converted
// to UTC (PostgreSQL).
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("scan time: unsupported type %T", v)
	}
	return nil
}

// listArg encodes a string list as JSON text; nil and empty are "[]".
func listArg(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, err := json.Marshal(l)
	if err != nil {
		// Marshalling a []string cannot fail.
		panic(err)
	}
	return string(b)
}

// listCol scans JSON text into a string list; "[]" becomes nil.
type listCol struct{ l *[]string }

func (c listCol) Scan(v any) error {
	var b []byte
	switch v := v.(type) {
	case nil:
		*c.l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan list: unsupported type %T", v)
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("scan list: %w", err)
	}
	if len(l) == 0 {
		l = nil
	}
	*c.l = l
	return nil
}

// bytesArg stores nil for an empty byte slice, so that empty and nil both
// read back as nil.
func bytesArg[B ~[]byte](b B) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}

// bytesCol scans a BLOB/BYTEA into a copy; NULL and empty become nil.
type bytesCol[B ~[]byte] struct{ b *B }

func (c bytesCol[B]) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.b = nil
	case []byte:
		if len(v) == 0 {
			*c.b = nil
		} else {
			*c.b = B(append([]byte(nil), v...))
		}
	default:
		return fmt.Errorf("scan bytes: unsupported type %T", v)
	}
	return nil
}

// boolCol scans a BOOLEAN (PostgreSQL) or 0/1 INTEGER (SQLite).
type boolCol struct{ b *bool }

func (c boolCol) Scan(v any) error {
	bv, err := driver.Bool.ConvertValue(v)
	if err != nil {
		return fmt.Errorf("scan bool: %w", err)
	}
	*c.b = bv.(bool)
	return nil
}
