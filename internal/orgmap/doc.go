// Package orgmap maps the accounts a tenant has at a provider (the Pax8
// companies of one connection) to the tenant's own organisation ids, the
// seed's "organization mapping".
//
// The matching itself is pure: [Compute] takes the companies, the tenant's
// organisations and the stored mappings and returns what is mapped, a
// suggestion for each unmapped company whose name closely matches an
// unmapped organisation ([Similarity] over [Normalize]d names), and what is
// left unmapped on both sides; an index of the organisations' words finds
// the pairs worth scoring, so thousands of each are not compared
// pairwise. [Service] adds the I/O: it lists the companies through the
// Pax8 client with the connection's token, keeping each connection's list
// for a short time ([Options.CompanyCacheTTL]) so that the views of one
// mapping session walk the Pax8 API once, reads and writes the store, and
// issues the short-lived links of the mapping page. [Routes] puts it on
// the JSON API and [Page] serves the page.
package orgmap
