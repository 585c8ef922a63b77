package secrets

import (
	"context"
	"errors"
	"testing"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/internal/contracts"
)

// sidecar answers GetSecret from a map, as the local file store does.
type sidecar struct {
	dapr.Client
	store   string
	secrets map[string]string
}

func (s *sidecar) GetSecret(_ context.Context, store, key string, _ map[string]string) (map[string]string, error) {
	s.store = store
	v, ok := s.secrets[key]
	if !ok {
		return nil, errors.New("secret " + key + " not found")
	}
	return map[string]string{key: v}, nil
}

func TestStoreReadsFromTheSecretStore(t *testing.T) {
	sc := &sidecar{secrets: map[string]string{contracts.StorefrontSessionKey: "abc"}}
	v, err := Store{client: sc}.Secret(context.Background(), contracts.StorefrontSessionKey)
	require.NoError(t, err)
	assert.Equal(t, "abc", v)
	assert.Equal(t, contracts.SecretStore, sc.store)

	_, err = Store{client: sc}.Secret(context.Background(), "missing")
	assert.ErrorContains(t, err, "missing")
}
