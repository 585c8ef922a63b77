package contracts

import "time"

// CloudEvent types on TopicInventory. Reservation events are keyed by order
// id, stock events by product id.
const (
	InventoryReserved = "inventory.reserved"
	InventoryRejected = "inventory.rejected"
	// InventoryExpired: the sweep released a reservation whose order did not
	// finish in time; orders cancels the order with ReasonReservationExpired.
	InventoryExpired = "inventory.expired"
	// StockChanged: a product's available/reserved counts changed (catalog
	// and search keep in_stock from it).
	StockChanged = "stock.changed"
)

// ReservationEvent is the data of inventory.reserved, .rejected and .expired.
// On a rejection ProductID names the first line that could not be reserved.
type ReservationEvent struct {
	OrderID   string    `json:"order_id"`
	Reason    string    `json:"reason,omitempty"`
	ProductID string    `json:"product_id,omitempty"`
	At        time.Time `json:"at"`
}

// StockEvent is the data of stock.changed. Version grows with every change
// of the product's stock record, so consumers drop stale or repeated events.
type StockEvent struct {
	ProductID string    `json:"product_id"`
	Available int64     `json:"available"`
	Reserved  int64     `json:"reserved"`
	InStock   bool      `json:"in_stock"`
	Version   int64     `json:"version"`
	At        time.Time `json:"at"`
}
