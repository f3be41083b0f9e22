// Package reconcile compares, for one month, what Pax8 charges a partner per
// customer and product with what the partner bills that customer, in exact
// money ([pax8.Amount]), and classifies every difference: seats charged and
// never billed, seats billed after they were removed, prices below cost,
// subscriptions cancelled but still charged, companies and products nobody
// mapped.
//
// [Run] walks the Pax8 data as a stream: subscriptions are held as one small
// record each, invoice items are folded into one aggregate per company and
// product as they arrive and never held.
package reconcile
