package contracts

import "time"

// CloudEvent types on TopicCatalog.
const (
	ProductCreated = "product.created"
	ProductUpdated = "product.updated"
	ProductDeleted = "product.deleted"
)

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// ProductEvent is the data of every product.* event. Version grows by one with
// every change of a product, so consumers can drop stale or repeated events.
// A product.deleted event carries the id, sku, version and Deleted=true.
type ProductEvent struct {
	ID          string    `json:"id"`
	SKU         string    `json:"sku"`
	Name        string    `json:"name,omitempty"`
	Description string    `json:"description,omitempty"`
	Category    string    `json:"category,omitempty"`
	Price       Money     `json:"price"`
	ImageURL    string    `json:"image_url,omitempty"`
	InStock     bool      `json:"in_stock"`
	Version     int64     `json:"version"`
	Deleted     bool      `json:"deleted,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}
