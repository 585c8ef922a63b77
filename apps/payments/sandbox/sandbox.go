// Package sandbox is a payment service provider for development and tests.
// It behaves like a real one where the payment flow depends on it: test
// tokens decide the outcome, charges and refunds are idempotent on a key (a
// repeated request returns the first one's result instead of moving money
// again), and its ledger outlives the payments app. It stands for an
// external system, so it keeps that ledger under its own keys in a KV the
// app gives it (the payments store), never in memory.
package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
	"github.com/shopmesh/shopmesh/internal/contracts"
)

// Test tokens. Any other token is refused as invalid.
const (
	TokenVisa              = "tok_visa"              // approved
	TokenChargeDeclined    = "tok_chargeDeclined"    // declined: contracts.PaymentDeclined
	TokenInsufficientFunds = "tok_insufficientFunds" // declined: contracts.PaymentInsufficientFunds
)

// Errors of the KV the ledger lives in.
var (
	ErrNotFound = errors.New("ledger: not found")
	ErrConflict = errors.New("ledger: concurrent modification")
)

// Errors the sandbox answers with, as a PSP's API would.
var (
	// ErrBadRequest: a request no PSP would accept (no key, no amount).
	ErrBadRequest = errors.New("sandbox: bad request")
	// ErrIdempotencyMismatch: a key reused with other parameters.
	ErrIdempotencyMismatch = errors.New("sandbox: idempotency key reused with different parameters")
	// ErrNotRefundable: no such approved charge, or its amount refunded.
	ErrNotRefundable = errors.New("sandbox: charge not refundable")
)

// KV holds JSON values with ETags.
type KV interface {
	Get(ctx context.Context, key string, v any) (etag string, err error) // ErrNotFound
	Create(ctx context.Context, key string, v any) error                 // ErrConflict when taken
	Save(ctx context.Context, key string, v any, etag string) error      // ErrConflict
}

// maxAttempts bounds retries of a ledger write that lost an ETag race.
const maxAttempts = 16

// Charge outcomes.
const (
	chargeSucceeded = "succeeded"
	chargeDeclined  = "declined"
)

// ledger is everything the sandbox did for one order, in one record, so a
// request and its idempotency check are one ETag write: of concurrent
// requests with one key, exactly one records a charge.
type ledger struct {
	OrderID string   `json:"order_id"`
	Charges []charge `json:"charges"`
	Refunds []refund `json:"refunds"`
}

// charge is one charge. Fingerprint identifies the request (a hash: the
// token itself is not kept).
type charge struct {
	ID             string          `json:"id"`
	IdempotencyKey string          `json:"idempotency_key"`
	Fingerprint    string          `json:"fingerprint"`
	Amount         contracts.Money `json:"amount"`
	Outcome        string          `json:"outcome"`
	DeclineReason  string          `json:"decline_reason,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
}

type refund struct {
	ID             string          `json:"id"`
	IdempotencyKey string          `json:"idempotency_key"`
	Fingerprint    string          `json:"fingerprint"`
	ChargeID       string          `json:"charge_id"`
	Amount         contracts.Money `json:"amount"`
	CreatedAt      time.Time       `json:"created_at"`
}

func (c charge) result() payments.ChargeResult {
	return payments.ChargeResult{ChargeID: c.ID, Approved: c.Outcome == chargeSucceeded, DeclineReason: c.DeclineReason}
}

// ledgerKey is the sandbox's own key space in the payments store.
func ledgerKey(orderID string) string { return "sandbox|ledger|" + orderID }

// Sandbox implements payments.Provider.
type Sandbox struct {
	kv  KV
	now func() time.Time
}

// New returns a sandbox keeping its ledger in kv.
func New(kv KV) *Sandbox { return &Sandbox{kv: kv, now: func() time.Time { return time.Now().UTC() }} }

// WithClock makes the sandbox read the time from now (tests).
func (s *Sandbox) WithClock(now func() time.Time) *Sandbox {
	s.now = now
	return s
}

func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p)) + ":" + p + ";"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func validMoney(m contracts.Money) bool { return m.Amount > 0 && len(m.Currency) == 3 }

// decide is the sandbox's card network: the token decides.
func decide(token string) (outcome, reason string) {
	switch token {
	case TokenVisa:
		return chargeSucceeded, ""
	case TokenChargeDeclined:
		return chargeDeclined, contracts.PaymentDeclined
	case TokenInsufficientFunds:
		return chargeDeclined, contracts.PaymentInsufficientFunds
	default:
		return chargeDeclined, contracts.PaymentInvalidToken
	}
}

// update applies change to the order's ledger with an ETag write, retrying
// lost races; change returns done=true to answer without writing.
func (s *Sandbox) update(ctx context.Context, orderID string, change func(*ledger) (done bool, err error)) error {
	for range maxAttempts {
		var l ledger
		etag, err := s.kv.Get(ctx, ledgerKey(orderID), &l)
		switch {
		case errors.Is(err, ErrNotFound):
			l, etag = ledger{OrderID: orderID}, ""
		case err != nil:
			return fmt.Errorf("sandbox ledger of order %s: %w", orderID, err)
		}
		done, err := change(&l)
		if err != nil || done {
			return err
		}
		if etag == "" {
			err = s.kv.Create(ctx, ledgerKey(orderID), l)
		} else {
			err = s.kv.Save(ctx, ledgerKey(orderID), l, etag)
		}
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sandbox ledger of order %s: %w", orderID, err)
		}
		return nil
	}
	return fmt.Errorf("sandbox ledger of order %s: %w", orderID, ErrConflict)
}

// Charge implements payments.Provider.
func (s *Sandbox) Charge(ctx context.Context, req payments.ChargeRequest) (payments.ChargeResult, error) {
	if req.IdempotencyKey == "" || req.OrderID == "" || !validMoney(req.Amount) {
		return payments.ChargeResult{}, fmt.Errorf("%w: a charge needs an idempotency key, an order id and a positive amount", ErrBadRequest)
	}
	fp := fingerprint(req.OrderID, req.Token, strconv.FormatInt(req.Amount.Amount, 10), req.Amount.Currency)
	var res payments.ChargeResult
	err := s.update(ctx, req.OrderID, func(l *ledger) (bool, error) {
		for _, c := range l.Charges {
			if c.IdempotencyKey == req.IdempotencyKey {
				if c.Fingerprint != fp {
					return true, fmt.Errorf("%w: charge key for order %s", ErrIdempotencyMismatch, req.OrderID)
				}
				res = c.result()
				return true, nil
			}
		}
		id, err := uuid.NewV7()
		if err != nil {
			return true, fmt.Errorf("new charge id: %w", err)
		}
		outcome, reason := decide(req.Token)
		c := charge{
			ID: "ch_" + id.String(), IdempotencyKey: req.IdempotencyKey, Fingerprint: fp, Amount: req.Amount,
			Outcome: outcome, DeclineReason: reason, CreatedAt: s.now(),
		}
		l.Charges = append(l.Charges, c)
		res = c.result()
		return false, nil
	})
	if err != nil {
		return payments.ChargeResult{}, err
	}
	return res, nil
}

// Refund implements payments.Provider.
func (s *Sandbox) Refund(ctx context.Context, req payments.RefundRequest) (payments.RefundResult, error) {
	if req.IdempotencyKey == "" || req.OrderID == "" || req.ChargeID == "" || !validMoney(req.Amount) {
		return payments.RefundResult{}, fmt.Errorf("%w: a refund needs an idempotency key, an order id, a charge id and a positive amount", ErrBadRequest)
	}
	fp := fingerprint(req.OrderID, req.ChargeID, strconv.FormatInt(req.Amount.Amount, 10), req.Amount.Currency)
	var res payments.RefundResult
	err := s.update(ctx, req.OrderID, func(l *ledger) (bool, error) {
		refunded := int64(0)
		for _, r := range l.Refunds {
			if r.IdempotencyKey == req.IdempotencyKey {
				if r.Fingerprint != fp {
					return true, fmt.Errorf("%w: refund key for order %s", ErrIdempotencyMismatch, req.OrderID)
				}
				res = payments.RefundResult{RefundID: r.ID}
				return true, nil
			}
			if r.ChargeID == req.ChargeID {
				refunded += r.Amount.Amount
			}
		}
		i := -1
		for j, c := range l.Charges {
			if c.ID == req.ChargeID && c.Outcome == chargeSucceeded {
				i = j
			}
		}
		if i < 0 || l.Charges[i].Amount.Currency != req.Amount.Currency || refunded+req.Amount.Amount > l.Charges[i].Amount.Amount {
			return true, fmt.Errorf("%w: charge %s of order %s", ErrNotRefundable, req.ChargeID, req.OrderID)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return true, fmt.Errorf("new refund id: %w", err)
		}
		r := refund{
			ID: "re_" + id.String(), IdempotencyKey: req.IdempotencyKey, Fingerprint: fp, ChargeID: req.ChargeID,
			Amount: req.Amount, CreatedAt: s.now(),
		}
		l.Refunds = append(l.Refunds, r)
		res = payments.RefundResult{RefundID: r.ID}
		return false, nil
	})
	if err != nil {
		return payments.RefundResult{}, err
	}
	return res, nil
}

// Charges implements payments.Provider: the approved charges for the order.
func (s *Sandbox) Charges(ctx context.Context, orderID string) (int, error) {
	var l ledger
	_, err := s.kv.Get(ctx, ledgerKey(orderID), &l)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sandbox ledger of order %s: %w", orderID, err)
	}
	n := 0
	for _, c := range l.Charges {
		if c.Outcome == chargeSucceeded {
			n++
		}
	}
	return n, nil
}

// Refunds counts the refunds made for the order (tests and diagnostics).
func (s *Sandbox) Refunds(ctx context.Context, orderID string) (int, error) {
	var l ledger
	_, err := s.kv.Get(ctx, ledgerKey(orderID), &l)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sandbox ledger of order %s: %w", orderID, err)
	}
	return len(l.Refunds), nil
}
