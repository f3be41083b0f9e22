// Package config is grantd's typed configuration: one [Config] decoded
// strictly from YAML (an unknown field is an error with its line number),
// overridden by GRANTD_* environment variables and then by command-line
// flags, completed by explicit defaults, and checked by [Config.Validate],
// which reports every problem at once.
//
// Secrets never appear in the YAML. The file names the environment
// variable (a *_env field) or the file (a *_file field) that holds each
// one; [Load] reads them into [Secret] fields, whose String, LogValue and
// marshalled forms print REDACTED.
package config
