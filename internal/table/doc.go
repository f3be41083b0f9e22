// Package table prints aligned text tables for the CLI and the load
// reports: rows under a header, an empty cell shown as "-", and times in
// UTC to the second.
package table
