package reconcile

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/orgmap"
	"github.com/grantd/grantd/internal/store"
)

// SuggestThreshold is the lowest score a product suggestion needs.
const SuggestThreshold = 0.6

// ProductSuggestion proposes a Pax8 product for a tenant's product key: a
// score of 1 when the key is the product's SKU, else the similarity of
// the key and the product's name ([orgmap.Similarity]).
type ProductSuggestion struct {
	ProductKey  string  `json:"product_key"`
	ProductID   string  `json:"product_id"`
	ProductName string  `json:"product_name"`
	SKU         string  `json:"sku,omitempty"`
	Score       float64 `json:"score"`
}

// ProductMapping is an accepted mapping of a product key to a Pax8
// product.
type ProductMapping struct {
	ProductKey  string `json:"product_key"`
	ProductID   string `json:"product_id"`
	ProductName string `json:"product_name,omitempty"`
}

// ProductMappings is the mapping state of a connection for a period's
// billing.
type ProductMappings struct {
	Mappings    []ProductMapping    `json:"mappings"`
	Suggestions []ProductSuggestion `json:"suggestions"`
	// UnmappedKeys are the period's billed keys with no mapping.
	UnmappedKeys []string  `json:"unmapped_keys"`
	Products     []Product `json:"products"`
}

// Suggest proposes, for each key, the best-scoring product at or above
// SuggestThreshold, if any.
func Suggest(keys []string, products []Product) []ProductSuggestion {
	var out []ProductSuggestion
	for _, k := range keys {
		best := ProductSuggestion{ProductKey: k}
		for _, p := range products {
			score := orgmap.Similarity(k, p.Name)
			if p.SKU != "" && strings.EqualFold(strings.TrimSpace(k), p.SKU) {
				score = 1
			}
			if score > best.Score || score == best.Score && best.ProductID != "" && p.ID < best.ProductID {
				best = ProductSuggestion{ProductKey: k, ProductID: p.ID, ProductName: p.Name, SKU: p.SKU, Score: score}
			}
		}
		if best.ProductID != "" && best.Score >= SuggestThreshold {
			out = append(out, best)
		}
	}
	return out
}

// ProductMappings returns the connection's product mappings, and
// suggestions for the keys the period's billing names that have none,
// among the products Pax8's data for the period shows.
func (s *Service) ProductMappings(ctx context.Context, tenantID, connID string, period Period) (ProductMappings, error) {
	snap, err := s.Snapshot(ctx, tenantID, connID, period, nil)
	if err != nil {
		return ProductMappings{}, err
	}
	in, err := s.Input(ctx, tenantID, connID, period)
	if err != nil {
		return ProductMappings{}, err
	}
	products := snap.Products()
	names := map[string]string{}
	for _, p := range products {
		names[p.ID] = p.Name
	}
	res := ProductMappings{Mappings: []ProductMapping{}, Suggestions: []ProductSuggestion{}, UnmappedKeys: []string{}, Products: products}
	for k, id := range in.Products {
		res.Mappings = append(res.Mappings, ProductMapping{ProductKey: k, ProductID: id, ProductName: names[id]})
	}
	slices.SortFunc(res.Mappings, func(a, b ProductMapping) int { return cmp.Compare(a.ProductKey, b.ProductKey) })
	seen := map[string]bool{}
	for _, b := range in.Billing {
		if _, ok := in.Products[b.Product]; !ok && !seen[b.Product] {
			seen[b.Product] = true
			res.UnmappedKeys = append(res.UnmappedKeys, b.Product)
		}
	}
	slices.Sort(res.UnmappedKeys)
	res.Suggestions = append(res.Suggestions, Suggest(res.UnmappedKeys, products)...)
	return res, nil
}

// SetProductMapping maps the tenant's product key to a Pax8 product of the
// connection's period snapshot.
func (s *Service) SetProductMapping(ctx context.Context, tenantID, connID, productKey, productID string, period Period) (ProductMapping, error) {
	if strings.TrimSpace(productKey) == "" || strings.TrimSpace(productID) == "" {
		return ProductMapping{}, errorf(broker.CodeInvalidRequest, nil, "product key and product_id are required")
	}
	snap, err := s.Snapshot(ctx, tenantID, connID, period, nil)
	if err != nil {
		return ProductMapping{}, err
	}
	p, ok := snap.products[productID]
	if !ok {
		return ProductMapping{}, errorf(broker.CodeInvalidRequest, nil, "product %q is not among the connection's Pax8 products for %s", productID, period)
	}
	m := store.ProductMapping{TenantID: tenantID, ConnectionID: connID, ProductKey: productKey, ExternalID: p.ID,
		ExternalName: p.Name, UpdatedAt: s.now()}
	if err := s.st.PutProductMapping(ctx, m); err != nil {
		return ProductMapping{}, errorf(broker.CodeInternal, err, "product mapping cannot be stored")
	}
	return ProductMapping{ProductKey: productKey, ProductID: p.ID, ProductName: p.Name}, nil
}

// AcceptProductSuggestions stores the period's suggestions (those for
// keys, or all when keys is empty) as mappings.
func (s *Service) AcceptProductSuggestions(ctx context.Context, tenantID, connID string, period Period, keys ...string) ([]ProductMapping, error) {
	res, err := s.ProductMappings(ctx, tenantID, connID, period)
	if err != nil {
		return nil, err
	}
	out := []ProductMapping{}
	for _, sg := range res.Suggestions {
		if len(keys) > 0 && !slices.Contains(keys, sg.ProductKey) {
			continue
		}
		m, err := s.SetProductMapping(ctx, tenantID, connID, sg.ProductKey, sg.ProductID, period)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// DeleteProductMapping removes the mapping of the tenant's product key.
func (s *Service) DeleteProductMapping(ctx context.Context, tenantID, connID, productKey string) error {
	if _, err := s.b.Connection(ctx, tenantID, connID); err != nil {
		return err
	}
	err := s.st.DeleteProductMapping(ctx, connID, productKey)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(broker.CodeNotFound, err, "product %q is not mapped", productKey)
	}
	if err != nil {
		return errorf(broker.CodeInternal, err, "product mapping cannot be deleted")
	}
	return nil
}
