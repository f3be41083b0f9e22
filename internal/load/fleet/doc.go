// Package fleet is what the multi-process load harnesses share: scratch
// databases (a SQLite file, or a throwaway PostgreSQL schema), loopback
// addresses and servers, health waits for grantd processes, and the check
// that a token handed out is live at the sandbox. It holds no test code, so
// the grantd binary may link it.
package fleet
