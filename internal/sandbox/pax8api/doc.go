// Package pax8api emulates the Pax8 partner REST API (https://api.pax8.com/v1)
// for grantd's sandbox: companies, contacts, products, orders, subscriptions,
// invoices and usage, with Pax8's pagination envelope, error body and the
// validations its documentation describes.
//
// Each partner (the subject of the access token, placed in the request
// context with [WithPartner] by the sandbox's auth middleware) owns a
// deterministic dataset generated lazily from [Options.Seed] and the partner
// id, so one partner never sees another's data and the same seed always yields
// the same data. Writes mutate that partner's dataset in memory.
//
// Where Pax8's live API differs from its published OpenAPI document, the
// emulator follows the live behaviour recorded in the project's provider
// facts (§1.9): subscriptions carry "commitment" rather than "commitmentTerm",
// orders read back orderedBy "Pax8Partner", company updatedDate uses the
// "-0600" offset form, and invoices carry a status.
//
// Invoices agree with the subscriptions they bill: each item has its
// subscription's quantity, price and cost, subTotal = price × quantity and
// costTotal = cost × quantity to the cent, and an invoice's total is the sum
// of its items. Price tiers follow the spec's Rate: the last volume tier and
// mark-up rates have endQuantityRange null ("no end of range").
// [Options.Discrepancies] or [API.SeedDiscrepancies] plant one invoice
// discrepancy of each category ([Discrepancy]) on a partner's latest
// partner invoice and list them, so that reconciliation tests know the
// answer.
//
// Generated dates are anchored to the first day of the month that
// [Options.Now] reports when a partner's dataset is first used, so data looks
// current while staying identical for a fixed clock.
package pax8api
