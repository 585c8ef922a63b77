package catalog

import (
	"context"
	"errors"
	"fmt"
)

// Seed is the catalogue loaded on first start.
type Seed struct {
	Categories []Category
	Products   []Draft
}

// LoadSeed adds the seed's missing categories and products and returns how
// many products it added. It is idempotent: a product whose SKU is taken is
// skipped, so a second start (or a restart mid-way) adds nothing twice.
func (s *Service) LoadSeed(ctx context.Context, seed Seed) (int, error) {
	if err := s.mergeCategories(ctx, seed.Categories); err != nil {
		return 0, err
	}
	added := 0
	for _, d := range seed.Products {
		if _, _, err := s.store.SKUClaim(ctx, d.SKU); err == nil {
			continue
		} else if !errors.Is(err, ErrNotFound) {
			return added, err
		}
		_, err := s.Create(ctx, d)
		if errors.Is(err, ErrDuplicateSKU) {
			continue
		}
		if err != nil {
			return added, fmt.Errorf("seeding %s: %w", d.SKU, err)
		}
		added++
	}
	return added, nil
}

func (s *Service) mergeCategories(ctx context.Context, want []Category) error {
	for range maxAttempts {
		have, etag, err := s.store.Categories(ctx)
		if err != nil {
			return err
		}
		merged, changed := have, false
		for _, c := range want {
			found := false
			for _, h := range have {
				found = found || h.ID == c.ID
			}
			if !found {
				merged, changed = append(merged, c), true
			}
		}
		if !changed {
			return nil
		}
		err = s.store.SaveCategories(ctx, merged, etag)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("saving categories: %w", ErrConflict)
}
