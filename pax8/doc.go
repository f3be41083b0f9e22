// Package pax8 is a typed client for the Pax8 partner API
// (https://api.pax8.com/v1): companies, contacts, products, orders,
// subscriptions, invoices and usage.
//
// # Authentication
//
// The client does not handle credentials. Give [NewClient] an [*net/http.Client]
// that adds the bearer token, for example one from golang.org/x/oauth2:
//
//	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret,
//		TokenURL: "https://api.pax8.com/v1/token",
//		EndpointParams: url.Values{"audience": {"https://api.pax8.com"}}}
//	c := pax8.NewClient(cfg.Client(ctx))
//
// or grantd's broker transport for delegated access. Tokens thus never pass
// through this package, and none of its errors or logs can contain one.
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
