package servicecall_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/gateway/outbound"
	"github.com/shopmesh/shopmesh/apps/gateway/servicecall"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestLoadConfig(t *testing.T) {
	cfg, err := servicecall.LoadConfig(lookup(nil), "SHOP", 1<<20)
	require.NoError(t, err)
	assert.Equal(t, servicecall.Config{Timeout: 10 * time.Second, MaxResponseBytes: 1 << 20}, cfg)

	cfg, err = servicecall.LoadConfig(lookup(map[string]string{"SHOP_TIMEOUT": "250ms", "SHOP_MAX_RESPONSE_BYTES": "4096"}), "SHOP", 1<<20)
	require.NoError(t, err)
	assert.Equal(t, servicecall.Config{Timeout: 250 * time.Millisecond, MaxResponseBytes: 4096}, cfg)

	_, err = servicecall.LoadConfig(lookup(map[string]string{"SHOP_TIMEOUT": "0s", "SHOP_MAX_RESPONSE_BYTES": "-1"}), "SHOP", 1<<20)
	require.Error(t, err)
	assert.ErrorContains(t, err, "SHOP_TIMEOUT")
	assert.ErrorContains(t, err, "SHOP_MAX_RESPONSE_BYTES")
}

type client struct{ cfg servicecall.Config }

func newClient(_ servicecall.Invoker, cfg servicecall.Config) *client { return &client{cfg} }

// Provide reads the client's Config from the environment, and a bad value
// stops the app from starting rather than giving it a zero timeout.
func TestProvideReadsTheEnvironment(t *testing.T) {
	build := func() (*client, error) {
		var c *client
		err := fx.New(fx.NopLogger, fx.Supply(outbound.New(nil)),
			servicecall.Provide("SHOPTEST", 1<<10, newClient), fx.Populate(&c)).Err()
		return c, err
	}
	t.Setenv("SHOPTEST_TIMEOUT", "3s")
	c, err := build()
	require.NoError(t, err)
	assert.Equal(t, servicecall.Config{Timeout: 3 * time.Second, MaxResponseBytes: 1 << 10}, c.cfg)

	t.Setenv("SHOPTEST_TIMEOUT", "soon")
	_, err = build()
	assert.ErrorContains(t, err, "SHOPTEST_TIMEOUT")
}

// sidecar answers every call with one status and body, as daprd does when
// it refuses a request before any app sees it.
type sidecar struct {
	status      int
	contentType string
	body        string
}

func (s sidecar) Call(context.Context, string, string, string, url.Values, io.Reader, http.Header) (*http.Response, error) {
	return &http.Response{
		Status: http.StatusText(s.status), StatusCode: s.status,
		Header: http.Header{"Content-Type": {s.contentType}},
		Body:   io.NopCloser(strings.NewReader(s.body)),
	}, nil
}

var errDown = errors.New("the test service is unavailable")

func TestSidecarRefusals(t *testing.T) {
	cfg := servicecall.Config{Timeout: time.Second, MaxResponseBytes: 1 << 10}
	call := func(sc sidecar) (servicecall.Answer, error) {
		return servicecall.New("shop", sc, cfg, errDown).Do(context.Background(), http.MethodGet, "search", nil, nil)
	}

	// A query string too long for daprd's 4 KiB read buffer is the client's
	// to shorten, not an outage.
	for _, status := range []int{http.StatusRequestHeaderFieldsTooLarge, http.StatusRequestURITooLong} {
		a, err := call(sidecar{status, "text/plain; charset=utf-8", "431 Request Header Fields Too Large"})
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, a.Status)
		p, ok := a.Problem()
		require.True(t, ok, "a problem+json answer")
		assert.Equal(t, "the query string is too long", p.Detail)
	}

	// Other refusals of the sidecar mean the service was not reached.
	_, err := call(sidecar{http.StatusInternalServerError, "application/json", `{"errorCode":"ERR_DIRECT_INVOKE"}`})
	assert.ErrorIs(t, err, errDown)

	// A bare 200 is the sidecar's, not the service's (Dapr 1.17 answers so
	// for some calls that failed); a 204 without a body is a service's.
	_, err = call(sidecar{status: http.StatusOK})
	assert.ErrorIs(t, err, errDown)
	a, err := call(sidecar{status: http.StatusNoContent})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, a.Status)

	// A service's own problem passes as it is, whatever its status.
	a, err = call(sidecar{http.StatusRequestURITooLong, "application/problem+json", `{"type":"x","title":"URI Too Long","status":414}`})
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestURITooLong, a.Status)
}
