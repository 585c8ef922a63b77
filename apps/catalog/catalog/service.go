package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"go.uber.org/fx"
)

// staleClaim is how old a SKU claim without a product must be before another
// create may take it over: a create that crashed after claiming leaves one.
const staleClaim = time.Minute

// maxAttempts bounds retries of a write that lost an ETag race.
const maxAttempts = 5

// Service implements the catalog's use cases.
type Service struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
}

// NewService returns the catalog over store.
func NewService(store Store, log *slog.Logger) *Service {
	return &Service{store: store, now: func() time.Time { return time.Now().UTC() }, log: log}
}

// Get returns one product.
func (s *Service) Get(ctx context.Context, id string) (Product, error) {
	p, _, err := s.store.Product(ctx, id)
	return p, err
}

// Categories lists every category, ordered by name.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	cs, _, err := s.store.Categories(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(cs, func(a, b Category) int { return compareFold(a.Name, b.Name) })
	return cs, nil
}

func (s *Service) requireCategory(ctx context.Context, id string) error {
	cs, _, err := s.store.Categories(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(cs, func(c Category) bool { return c.ID == id }) {
		return fmt.Errorf("%w: %q", ErrUnknownCategory, id)
	}
	return nil
}

// Create adds a product. The SKU is claimed first (first-write, so two
// concurrent creates cannot both win), then the product joins the listing
// sets, then it is stored together with its product.created event.
func (s *Service) Create(ctx context.Context, d Draft) (Product, error) {
	if err := s.requireCategory(ctx, d.Category); err != nil {
		return Product{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Product{}, fmt.Errorf("new product id: %w", err)
	}
	now := s.now()
	p := Product{
		ID: id.String(), SKU: d.SKU, Name: d.Name, Description: d.Description, Category: d.Category,
		Price: d.Price, ImageURL: d.ImageURL, InStock: true, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.claimSKU(ctx, p.SKU, p.ID); err != nil {
		return Product{}, err
	}
	if err := s.addToSets(ctx, p); err != nil {
		return Product{}, err
	}
	if err := s.store.CreateProduct(ctx, p); err != nil {
		return Product{}, fmt.Errorf("storing product %s: %w", p.ID, err)
	}
	return p, nil
}

// claimSKU takes sku for productID, or reports ErrDuplicateSKU. A claim
// whose product never got stored is taken over once it is stale.
func (s *Service) claimSKU(ctx context.Context, sku, productID string) error {
	claim := SKUClaim{ProductID: productID, ClaimedAt: s.now()}
	for range maxAttempts {
		err := s.store.ClaimSKU(ctx, sku, claim)
		if !errors.Is(err, ErrConflict) {
			return err
		}
		owner, etag, err := s.store.SKUClaim(ctx, sku)
		if errors.Is(err, ErrNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			return err
		}
		if owner.ProductID == productID {
			return nil
		}
		if _, _, err := s.store.Product(ctx, owner.ProductID); !errors.Is(err, ErrNotFound) {
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: %s", ErrDuplicateSKU, sku)
		}
		if s.now().Sub(owner.ClaimedAt) < staleClaim {
			return fmt.Errorf("%w: %s", ErrDuplicateSKU, sku) // a create of it is in flight
		}
		err = s.store.ReplaceSKUClaim(ctx, sku, claim, etag)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("claiming sku %s: %w", sku, ErrConflict)
}

func (s *Service) releaseSKU(ctx context.Context, sku, productID string) {
	owner, etag, err := s.store.SKUClaim(ctx, sku)
	if err == nil && owner.ProductID == productID {
		err = s.store.ReleaseSKU(ctx, sku, etag)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		// A leftover claim only blocks the SKU until the stale takeover.
		s.log.WarnContext(ctx, "could not release sku", "sku", sku, "product_id", productID, "err", err)
	}
}

func (s *Service) addToSets(ctx context.Context, p Product) error {
	for _, name := range []string{setAll, categorySet(p.Category)} {
		if err := s.store.Set(name).Add(ctx, p.ID); err != nil {
			return fmt.Errorf("listing product %s: %w", p.ID, err)
		}
	}
	return nil
}

// Update replaces a product's fields. It retries when another writer got
// there first: the request is a full replacement, so re-applying is right.
func (s *Service) Update(ctx context.Context, id string, d Draft) (Product, error) {
	if err := s.requireCategory(ctx, d.Category); err != nil {
		return Product{}, err
	}
	for range maxAttempts {
		old, etag, err := s.store.Product(ctx, id)
		if err != nil {
			return Product{}, err
		}
		p := old
		p.SKU, p.Name, p.Description, p.Category, p.Price, p.ImageURL = d.SKU, d.Name, d.Description, d.Category, d.Price, d.ImageURL
		p.Version, p.UpdatedAt = old.Version+1, s.now()
		if p.SKU != old.SKU {
			if err := s.claimSKU(ctx, p.SKU, p.ID); err != nil {
				return Product{}, err
			}
		}
		if p.Category != old.Category {
			if err := s.store.Set(categorySet(p.Category)).Add(ctx, p.ID); err != nil {
				return Product{}, err
			}
		}
		err = s.store.UpdateProduct(ctx, p, etag)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Product{}, fmt.Errorf("storing product %s: %w", id, err)
		}
		if p.SKU != old.SKU {
			s.releaseSKU(ctx, old.SKU, p.ID)
		}
		if p.Category != old.Category {
			// Listing also checks the category, so a failure here only leaves
			// an entry that is skipped.
			if err := s.store.Set(categorySet(old.Category)).Remove(ctx, p.ID); err != nil {
				s.log.WarnContext(ctx, "could not unlist product from old category", "product_id", p.ID, "err", err)
			}
		}
		return p, nil
	}
	return Product{}, fmt.Errorf("updating product %s: %w", id, ErrConflict)
}

// ApplyStock keeps a product's in_stock from the inventory's stock.changed
// events; version is the stock record's. An event no newer than the last
// one applied changes nothing (a redelivery, or one overtaken by a newer
// one). When in_stock changes, that is a change of the product: its version
// grows and product.updated goes out through the outbox. Otherwise only the
// stock version is stored, silently, so that an older event arriving later
// cannot undo a newer one. Events for a deleted product are dropped.
func (s *Service) ApplyStock(ctx context.Context, productID string, inStock bool, version int64) error {
	for range maxAttempts {
		p, etag, err := s.store.Product(ctx, productID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if version <= p.StockVersion {
			return nil
		}
		p.StockVersion = version
		if p.InStock == inStock {
			err = s.store.RecordStockVersion(ctx, p, etag)
		} else {
			p.InStock, p.Version, p.UpdatedAt = inStock, p.Version+1, s.now()
			err = s.store.UpdateProduct(ctx, p, etag)
		}
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("storing stock of product %s: %w", productID, err)
		}
		return nil
	}
	return fmt.Errorf("storing stock of product %s: %w", productID, ErrConflict)
}

// Delete removes a product; its product.deleted event is stored with it.
func (s *Service) Delete(ctx context.Context, id string) error {
	for range maxAttempts {
		p, etag, err := s.store.Product(ctx, id)
		if err != nil {
			return err
		}
		p.Version, p.UpdatedAt = p.Version+1, s.now()
		err = s.store.DeleteProduct(ctx, p, etag)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("deleting product %s: %w", id, err)
		}
		for _, name := range []string{setAll, categorySet(p.Category)} {
			if err := s.store.Set(name).Remove(ctx, p.ID); err != nil {
				s.log.WarnContext(ctx, "could not unlist deleted product", "product_id", p.ID, "set", name, "err", err)
			}
		}
		s.releaseSKU(ctx, p.SKU, p.ID)
		return nil
	}
	return fmt.Errorf("deleting product %s: %w", id, ErrConflict)
}

// List returns up to limit products after the cursor, in creation order,
// optionally of one category. Set entries whose product is gone (or moved
// to another category) are skipped, so listing never shows stale data.
func (s *Service) List(ctx context.Context, category, after string, limit int) (Page, error) {
	set := setAll
	if category != "" {
		set = categorySet(category)
	}
	var page Page
	cursor, more := after, true
	for more && len(page.Items) < limit {
		var ids []string
		var err error
		ids, more, err = s.store.Set(set).After(ctx, cursor, limit-len(page.Items))
		if err != nil {
			return Page{}, fmt.Errorf("listing %s: %w", set, err)
		}
		if len(ids) == 0 {
			break
		}
		ps, err := s.store.Products(ctx, ids)
		if err != nil {
			return Page{}, fmt.Errorf("reading products: %w", err)
		}
		for _, p := range ps {
			if category == "" || p.Category == category {
				page.Items = append(page.Items, p)
			}
		}
		cursor = ids[len(ids)-1]
	}
	if more {
		page.Next = cursor
	}
	return page, nil
}

func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lower(a[i]), lower(b[i])
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	return len(a) - len(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Module provides the Service.
var Module = fx.Provide(NewService)
