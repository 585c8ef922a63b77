// Package notify is the notifications domain: which event earns which
// e-mail, sending each at most once per notification even when events are
// redelivered or duplicated, and the per-user notification log. It knows no
// Gin and no Dapr: it talks to a Store and a Mailer.
package notify

import (
	"context"
	"errors"
	"time"
)

// Kinds of notification (the API's `kind`).
const (
	KindWelcome        = "welcome"
	KindOrderConfirmed = "order_confirmed"
	KindOrderCancelled = "order_cancelled"
)

// Delivery statuses.
const (
	// StatusSending: a delivery claimed the notification and may be sending
	// it now, or crashed while doing so.
	StatusSending = "sending"
	// StatusSent: the e-mail went out; it is never sent again.
	StatusSent = "sent"
)

// MaxLogEntries bounds a user's notification log; older entries drop off.
const MaxLogEntries = 100

// Errors.
var (
	ErrNotFound = errors.New("notify: not found")
	ErrConflict = errors.New("notify: concurrent modification")
	// ErrInvalidEvent: the event can never be turned into an e-mail (no
	// recipient, no id): retrying will not help.
	ErrInvalidEvent = errors.New("notify: invalid event")
	// ErrInFlight: another delivery of the same notification holds a fresh
	// claim; try again later (it may crash, and then this one takes over).
	ErrInFlight = errors.New("notify: the notification is being sent by another delivery")
)

// Delivery is the record of one notification, keyed by what it is about
// (see key): claimed before the e-mail goes out, marked sent after. It
// keeps the plain-text body as the record of what was said: the e-mail
// bindings (SMTP, SES; checked on Dapr 1.17.5) send one HTML body only.
type Delivery struct {
	NotificationID string    `json:"notification_id"`
	EventID        string    `json:"event_id"`
	Kind           string    `json:"kind"`
	UserID         string    `json:"user_id"`
	OrderID        string    `json:"order_id,omitempty"`
	To             string    `json:"to"`
	Subject        string    `json:"subject"`
	Text           string    `json:"text"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	ClaimedAt      time.Time `json:"claimed_at"`
	SentAt         time.Time `json:"sent_at,omitzero"`
}

// Entry is one line of a user's notification log.
type Entry struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
	SentAt  time.Time `json:"sent_at"`
	OrderID string    `json:"order_id,omitempty"`
}

func (d Delivery) entry() Entry {
	return Entry{ID: d.NotificationID, Kind: d.Kind, Subject: d.Subject, SentAt: d.SentAt, OrderID: d.OrderID}
}

// Store keeps deliveries and logs with ETags, as Dapr state stores do.
type Store interface {
	// Delivery reads the delivery under key and its ETag, or ErrNotFound.
	Delivery(ctx context.Context, key string) (Delivery, string, error)
	// CreateDelivery writes d under key only if the key is free
	// (first-write), else ErrConflict, and returns the new ETag.
	CreateDelivery(ctx context.Context, key string, d Delivery) (string, error)
	// SaveDelivery replaces the delivery under key if its ETag is still
	// etag, else ErrConflict, and returns the new ETag.
	SaveDelivery(ctx context.Context, key string, d Delivery, etag string) (string, error)
	// DeleteDelivery removes the delivery under key if its ETag is still etag.
	DeleteDelivery(ctx context.Context, key, etag string) error
	// Log reads a user's log, newest first, and its ETag; an empty log and
	// "" when the user has none.
	Log(ctx context.Context, userID string) ([]Entry, string, error)
	// SaveLog writes a user's log: with etag "" only if the user has none
	// yet, otherwise only if its ETag is still etag; else ErrConflict.
	SaveLog(ctx context.Context, userID string, entries []Entry, etag string) error
}

// Mail is one e-mail to send.
type Mail struct {
	To      string
	Subject string
	HTML    string
}

// Mailer sends e-mail.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}
