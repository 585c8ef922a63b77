// Package secrets names what the users service reads from the Dapr secret
// store and the small interface it reads them through; package store
// implements it on the sidecar, Map in tests.
package secrets

import (
	"context"
	"errors"
	"fmt"
)

// Names of the secrets the users service reads (keys of .local/secrets.json
// locally, secret names in the AWS profile's store).
const (
	SigningKey         = "jwt-signing-key"             // PKCS#8 PEM of a P-256 key
	SigningKeyID       = "jwt-signing-key-id"          // its kid
	PreviousSigningKey = "jwt-previous-signing-key"    // optional: the key before the last rotation
	PreviousKeyID      = "jwt-previous-signing-key-id" // optional: its kid
	AdminEmail         = "admin-email"
	AdminPassword      = "admin-password"
)

// ErrNotFound: the store has no secret of that name.
var ErrNotFound = errors.New("secret not found")

// Source reads one secret's value. Errors never contain the value.
type Source interface {
	Secret(ctx context.Context, name string) (string, error)
}

// Map is an in-memory Source for tests.
type Map map[string]string

// Secret implements Source.
func (m Map) Secret(_ context.Context, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("secret %s: %w", name, ErrNotFound)
	}
	return v, nil
}
