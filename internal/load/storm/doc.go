// Package storm is the fleet-scale refresh benchmark behind `grantd load
// storm` and `grantd load idle`: it seeds many Pax8 connections straight
// into a scratch database (sealed as the broker seals them, refresh tokens
// minted by the sandbox), starts real `grantd serve` replicas on it, and
// measures how they drain the connections that are due: every connection
// must be refreshed exactly once, with no refresh-token reuse, no family
// revoked and no 429 from a provider's rate cap. Each run also measures
// its baseline, the sandbox alone at the same concurrency, in the same
// process.
package storm
