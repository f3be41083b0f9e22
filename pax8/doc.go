// Package pax8 is a typed client for the Pax8 partner API
// (https://api.pax8.com/v1): companies, contacts, products, orders,
// subscriptions, invoices and usage.
//
// # Authentication
//
// [Credentials] fetch partner tokens the way Pax8 documents: a JSON body
// {client_id, client_secret, audience, grant_type} posted to
// https://api.pax8.com/v1/token, each token cached until a minute before it
// expires, one fetch at a time:
//
//	cred := pax8.Credentials{ClientID: id, ClientSecret: secret}
//	c := pax8.NewClient(cred.Client(nil))
//
// (golang.org/x/oauth2/clientcredentials does not fit: it posts a form,
// which a token endpoint that follows Pax8's documentation refuses with 415.)
// When the credentials are refused, each call fails once with a
// [*TokenError] that says so; it is not retried as a network error would be.
// For delegated access, give [NewClient] grantd's broker transport instead.
// Tokens never appear in this package's errors or logs.
//
// # Services and pagination
//
// Each resource has a service on [Client]: c.Companies, c.Subscriptions and
// so on. List methods return one [Page]; All methods return an
// [iter.Seq2] that walks every page, MaxPageSize (200) items at a time,
// holding one page in memory:
//
//	for sub, err := range c.Subscriptions.All(ctx, &pax8.SubscriptionListOptions{Status: pax8.SubscriptionActive}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(sub.ID, sub.ProductName, sub.Quantity)
//	}
//
// With [WithConcurrency](n) the All methods fetch up to n pages ahead in
// parallel, still yielding in order. Breaking out of the loop stops all
// fetching before the loop statement completes.
//
// # Errors, retries and rate limits
//
// A response outside 2xx is returned as an [*Error] carrying Pax8's error
// body (type, message, instance, details); use errors.AsType[*pax8.Error] or
// errors.Is with [ErrNotFound], [ErrRateLimited] and the other sentinels. A
// 429 is retried for every method, waiting as long as Retry-After says
// (seconds or an HTTP date) or with exponential backoff; 5xx responses and
// network errors are retried only for idempotent methods (GET, PUT, DELETE),
// so an order is never placed twice. After [WithMaxRetries] attempts the
// last error is returned, with RetryAfter set when the server gave one.
// Every wait ends early when the context is cancelled.
//
// Pass a context from [WithResponse] to see a call's [Response]: its
// headers, request id and rate-limit state. An [*Error] keeps Pax8's
// instance (the gateway path) and the request id.
//
// # Money
//
// Every price, cost, amount and total is an [Amount], an exact decimal:
// 0.1 + 0.2 is 0.3, and a JSON number such as 12.345678901234567890 is read
// and written digit for digit. [Amount.In] pairs an amount with the
// object's CurrencyCode as [Money], whose arithmetic refuses to mix
// currencies. Quantities stay [Number]s; [Amount.MulQuantity] prices them.
// Amount is built on github.com/shopspring/decimal (arbitrary precision,
// widely used, no dependencies) rather than math/big directly, which would
// need our own parsing, rounding and formatting; the library stays an
// implementation detail behind Amount's methods. Fields Pax8 documents as
// possibly null are pointers: Rate.EndQuantityRange is nil for "no end of
// range".
//
// # Live API quirks
//
// The types follow Pax8's OpenAPI document and tolerate the differences seen
// on the live API: timestamps with "-0600" offsets or as bare dates ([Time]),
// numbers sent as strings ([Number]), a subscription's "commitment" field
// for the documented "commitmentTerm", orderedBy "Pax8Partner" for "Pax8
// Partner" ([OrderedBy]), capitalised invoice rateType values ([RateType]),
// "commitmentTermID" for "commitmentTermId" and contacts' undocumented phone
// fields.
//
// Ids are path-escaped, and ids such as "" or ".." are refused, so an id can
// never make a request address another resource. Redirects are not followed,
// so the token added by the caller's transport cannot reach another host.
package pax8
