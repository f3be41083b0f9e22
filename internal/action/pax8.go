package action

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grantd/grantd/pax8"
)

// Inputs of the pax8 actions. Field names are snake_case like the rest of
// grantd's API; bodies sent to Pax8 (company, order, update) keep Pax8's own
// camelCase types.
type (
	companyID struct {
		CompanyID string `json:"company_id" required:"true" desc:"Pax8 company id"`
	}
	contactID struct {
		CompanyID string `json:"company_id" required:"true" desc:"Pax8 company id"`
		ContactID string `json:"contact_id" required:"true" desc:"contact id"`
	}
	orderID struct {
		OrderID string `json:"order_id" required:"true" desc:"order id"`
	}
	productID struct {
		ProductID string `json:"product_id" required:"true" desc:"product id"`
	}
	subscriptionID struct {
		SubscriptionID string `json:"subscription_id" required:"true" desc:"subscription id"`
	}
	invoiceID struct {
		InvoiceID string `json:"invoice_id" required:"true" desc:"invoice id"`
	}
	cancelInput struct {
		IdempotencyField
		SubscriptionID string    `json:"subscription_id" required:"true" desc:"subscription id"`
		CancelDate     pax8.Time `json:"cancel_date,omitzero" desc:"when the cancellation takes effect (default: as soon as Pax8 allows)"`
	}
	createCompanyInput struct {
		IdempotencyField
		Company *pax8.Company `json:"company" required:"true" desc:"the company, in Pax8's shape; include a primary contact of each type to make it Active at once"`
	}
	createOrderInput struct {
		IdempotencyField
		Order *pax8.OrderCreate `json:"order" required:"true" desc:"the order, in Pax8's shape"`
		Mock  bool              `json:"mock,omitempty" desc:"only validate the order (isMock=true); nothing is bought"`
	}
	updateSubscriptionInput struct {
		IdempotencyField
		SubscriptionID string                   `json:"subscription_id" required:"true" desc:"subscription id"`
		Update         *pax8.SubscriptionUpdate `json:"update" required:"true" desc:"the changes, in Pax8's shape (at least one of quantity, price, billingTerm, startDate)"`
	}

	listCompaniesInput struct {
		Paging
		Status  pax8.CompanyStatus `json:"status,omitempty" desc:"Active, Inactive or Deleted"`
		City    string             `json:"city,omitempty"`
		Country string             `json:"country,omitempty" desc:"ISO 3166 alpha-2 code"`
	}
	listContactsInput struct {
		Paging
		CompanyID string `json:"company_id" required:"true" desc:"Pax8 company id"`
	}
	listOrdersInput struct {
		Paging
		CompanyID string `json:"company_id,omitempty" desc:"only this company's orders"`
	}
	listProductsInput struct {
		Paging
		Search     string `json:"search,omitempty" desc:"matches product names and SKUs"`
		VendorName string `json:"vendor_name,omitempty"`
	}
	listSubscriptionsInput struct {
		Paging
		CompanyID   string                  `json:"company_id,omitempty"`
		ProductID   string                  `json:"product_id,omitempty"`
		Status      pax8.SubscriptionStatus `json:"status,omitempty"`
		BillingTerm pax8.BillingTerm        `json:"billing_term,omitempty"`
	}
	listInvoicesInput struct {
		Paging
		CompanyID string             `json:"company_id,omitempty"`
		Status    pax8.InvoiceStatus `json:"status,omitempty"`
	}
	listInvoiceItemsInput struct {
		Paging
		InvoiceID string `json:"invoice_id" required:"true" desc:"invoice id"`
	}
)

// Cancelled is the output of pax8.cancel_subscription.
type Cancelled struct {
	SubscriptionID string `json:"subscription_id"`
	Cancelled      bool   `json:"cancelled"`
}

func pax8Actions() []Action {
	all := []Action{
		defineWrite("pax8.cancel_subscription", "Cancels the subscription specified by subscription_id.", http.MethodDelete, "/subscriptions/{subscriptionId}",
			func(ctx context.Context, c *pax8.Client, in *cancelInput) (Cancelled, error) {
				var when time.Time
				if !in.CancelDate.IsZero() {
					when = in.CancelDate.Time
				}
				if err := c.Subscriptions.Cancel(ctx, in.SubscriptionID, when); err != nil {
					return Cancelled{}, err
				}
				return Cancelled{SubscriptionID: in.SubscriptionID, Cancelled: true}, nil
			}, lookCancelled, nil),
		defineWrite("pax8.create_company", "Creates a company. It stays Inactive until it has primary contacts; then it becomes Active.", http.MethodPost, "/companies",
			func(ctx context.Context, c *pax8.Client, in *createCompanyInput) (*pax8.Company, error) {
				if strings.TrimSpace(in.Company.Name) == "" {
					return nil, &InputError{Field: "company.name", Msg: "is required"}
				}
				return c.Companies.Create(ctx, in.Company)
			}, lookCompany, func(co *pax8.Company) string { return co.ID }),
		defineWrite("pax8.create_order", "Creates an order. Scheduled orders (with a future date) are not supported.", http.MethodPost, "/orders",
			func(ctx context.Context, c *pax8.Client, in *createOrderInput) (*pax8.Order, error) {
				if in.Order.CompanyID == "" {
					return nil, &InputError{Field: "order.companyId", Msg: "is required"}
				}
				if len(in.Order.LineItems) == 0 {
					return nil, &InputError{Field: "order.lineItems", Msg: "must hold at least one line item"}
				}
				return c.Orders.Create(ctx, in.Order, in.Mock)
			}, lookOrder, func(o *pax8.Order) string { return o.ID }),
		define("pax8.get_company", "Returns the company with the given company_id.", http.MethodGet, "/companies/{companyId}",
			func(ctx context.Context, c *pax8.Client, in *companyID) (*pax8.Company, error) {
				return c.Companies.Get(ctx, in.CompanyID)
			}),
		define("pax8.get_company_contact", "Returns the contact contact_id of company company_id.", http.MethodGet, "/companies/{companyId}/contacts/{contactId}",
			func(ctx context.Context, c *pax8.Client, in *contactID) (*pax8.Contact, error) {
				return c.Contacts.Get(ctx, in.CompanyID, in.ContactID)
			}),
		define("pax8.get_order", "Returns the order with the given order_id.", http.MethodGet, "/orders/{orderId}",
			func(ctx context.Context, c *pax8.Client, in *orderID) (*pax8.Order, error) {
				return c.Orders.Get(ctx, in.OrderID)
			}),
		define("pax8.get_product", "Returns the product with the given product_id.", http.MethodGet, "/products/{productId}",
			func(ctx context.Context, c *pax8.Client, in *productID) (*pax8.ProductDetail, error) {
				return c.Products.Get(ctx, in.ProductID)
			}),
		define("pax8.get_product_provision_details", "Returns the provisioning details an order for product_id must answer. They are dynamic: fetch them before each order.", http.MethodGet, "/products/{productId}/provision-details",
			func(ctx context.Context, c *pax8.Client, in *productID) ([]pax8.ProvisioningDetail, error) {
				d, err := c.Products.ProvisionDetails(ctx, in.ProductID)
				return nonNil(d), err
			}),
		define("pax8.get_subscription", "Returns the subscription with the given subscription_id.", http.MethodGet, "/subscriptions/{subscriptionId}",
			func(ctx context.Context, c *pax8.Client, in *subscriptionID) (*pax8.Subscription, error) {
				return c.Subscriptions.Get(ctx, in.SubscriptionID)
			}),
		defineWrite("pax8.update_subscription", "Updates a subscription. Subscriptions with a future start date cannot be updated.", http.MethodPut, "/subscriptions/{subscriptionId}",
			func(ctx context.Context, c *pax8.Client, in *updateSubscriptionInput) (*pax8.Subscription, error) {
				u := in.Update
				if u.Quantity == nil && u.Price == nil && u.BillingTerm == "" && u.StartDate.IsZero() {
					return nil, &InputError{Field: "update", Msg: "must set at least one of quantity, price, billingTerm or startDate"}
				}
				return c.Subscriptions.Update(ctx, in.SubscriptionID, u)
			}, lookUpdated, nil),
		defineWrite("pax8.set_quantity", "Sets a subscription's quantity (seats) to quantity: reads the subscription and updates it only if its quantity differs, so repeating it changes nothing.", http.MethodPut, "/subscriptions/{subscriptionId}",
			setQuantity, lookQuantity, nil),
		define("pax8.get_invoice", "Returns the invoice with the given invoice_id.", http.MethodGet, "/invoices/{invoiceId}",
			func(ctx context.Context, c *pax8.Client, in *invoiceID) (*pax8.Invoice, error) {
				return c.Invoices.Get(ctx, in.InvoiceID)
			}),

		defineList("pax8.list_companies", "Lists your companies, filtered by the optional parameters.", "/companies",
			func(ctx context.Context, c *pax8.Client, in *listCompaniesInput, o pax8.ListOptions) (*pax8.Page[pax8.Company], error) {
				return c.Companies.List(ctx, in.options(o))
			},
			func(ctx context.Context, c *pax8.Client, in *listCompaniesInput, o pax8.ListOptions) func(func(pax8.Company, error) bool) {
				return c.Companies.All(ctx, in.options(o))
			}),
		defineList("pax8.list_company_contacts", "Lists the contacts of company company_id, newest first.", "/companies/{companyId}/contacts",
			func(ctx context.Context, c *pax8.Client, in *listContactsInput, o pax8.ListOptions) (*pax8.Page[pax8.Contact], error) {
				return c.Contacts.List(ctx, in.CompanyID, &o)
			},
			func(ctx context.Context, c *pax8.Client, in *listContactsInput, o pax8.ListOptions) func(func(pax8.Contact, error) bool) {
				return c.Contacts.All(ctx, in.CompanyID, &o)
			}),
		defineList("pax8.list_orders", "Lists orders. Scheduled orders (with a future date) are not supported.", "/orders",
			func(ctx context.Context, c *pax8.Client, in *listOrdersInput, o pax8.ListOptions) (*pax8.Page[pax8.Order], error) {
				return c.Orders.List(ctx, &pax8.OrderListOptions{ListOptions: o, CompanyID: in.CompanyID})
			},
			func(ctx context.Context, c *pax8.Client, in *listOrdersInput, o pax8.ListOptions) func(func(pax8.Order, error) bool) {
				return c.Orders.All(ctx, &pax8.OrderListOptions{ListOptions: o, CompanyID: in.CompanyID})
			}),
		defineList("pax8.list_products", "Lists Pax8 products, filtered by the optional parameters.", "/products",
			func(ctx context.Context, c *pax8.Client, in *listProductsInput, o pax8.ListOptions) (*pax8.Page[pax8.Product], error) {
				return c.Products.List(ctx, &pax8.ProductListOptions{ListOptions: o, Search: in.Search, VendorName: in.VendorName})
			},
			func(ctx context.Context, c *pax8.Client, in *listProductsInput, o pax8.ListOptions) func(func(pax8.Product, error) bool) {
				return c.Products.All(ctx, &pax8.ProductListOptions{ListOptions: o, Search: in.Search, VendorName: in.VendorName})
			}),
		defineList("pax8.list_subscriptions", "Lists subscriptions. The default page is 0 and the default size 10; the maximum size is 200.", "/subscriptions",
			func(ctx context.Context, c *pax8.Client, in *listSubscriptionsInput, o pax8.ListOptions) (*pax8.Page[pax8.Subscription], error) {
				return c.Subscriptions.List(ctx, in.options(o))
			},
			func(ctx context.Context, c *pax8.Client, in *listSubscriptionsInput, o pax8.ListOptions) func(func(pax8.Subscription, error) bool) {
				return c.Subscriptions.All(ctx, in.options(o))
			}),
		defineList("pax8.list_invoices", "Lists invoices, for billing reconciliation.", "/invoices",
			func(ctx context.Context, c *pax8.Client, in *listInvoicesInput, o pax8.ListOptions) (*pax8.Page[pax8.Invoice], error) {
				return c.Invoices.List(ctx, &pax8.InvoiceListOptions{ListOptions: o, CompanyID: in.CompanyID, Status: in.Status})
			},
			func(ctx context.Context, c *pax8.Client, in *listInvoicesInput, o pax8.ListOptions) func(func(pax8.Invoice, error) bool) {
				return c.Invoices.All(ctx, &pax8.InvoiceListOptions{ListOptions: o, CompanyID: in.CompanyID, Status: in.Status})
			}),
		defineList("pax8.list_invoice_items", "Lists the line items of invoice invoice_id, for billing reconciliation.", "/invoices/{invoiceId}/items",
			func(ctx context.Context, c *pax8.Client, in *listInvoiceItemsInput, o pax8.ListOptions) (*pax8.Page[pax8.InvoiceItem], error) {
				return c.Invoices.Items(ctx, in.InvoiceID, &o)
			},
			func(ctx context.Context, c *pax8.Client, in *listInvoiceItemsInput, o pax8.ListOptions) func(func(pax8.InvoiceItem, error) bool) {
				return c.Invoices.AllItems(ctx, in.InvoiceID, &o)
			}),
	}
	slices.SortFunc(all, func(a, b Action) int { return strings.Compare(a.Name, b.Name) })
	return all
}

func (in *listCompaniesInput) options(o pax8.ListOptions) *pax8.CompanyListOptions {
	return &pax8.CompanyListOptions{ListOptions: o, Status: in.Status, City: in.City, Country: in.Country}
}

func (in *listSubscriptionsInput) options(o pax8.ListOptions) *pax8.SubscriptionListOptions {
	return &pax8.SubscriptionListOptions{ListOptions: o, CompanyID: in.CompanyID, ProductID: in.ProductID, Status: in.Status, BillingTerm: in.BillingTerm}
}
