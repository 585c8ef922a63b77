package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// sidecar reaches a running app through its own daprd, as another service
// would, with the API token the runner gave it.
type sidecar struct {
	appID string
	base  string
	token string
}

func sidecarOf(t *testing.T, appID string) sidecar {
	t.Helper()
	root := repoRoot()
	l, err := stack.NewLayout(root)
	require.NoError(t, err)
	tmpl, err := stack.LoadTemplate(filepath.Join(root, "dapr", "dapr.yaml"))
	require.NoError(t, err)
	spec, err := tmpl.App(appID)
	require.NoError(t, err)
	tokens, err := stack.ReadTokens(l, appID)
	require.NoError(t, err)
	return sidecar{appID: appID, base: fmt.Sprintf("http://127.0.0.1:%d", spec.DaprHTTP), token: tokens.DaprAPIToken}
}

// invoke calls method on the app through Dapr service invocation.
func (s sidecar) invoke(t *testing.T, verb, method string, body any) response {
	t.Helper()
	return call(t, verb, s.base+"/v1.0/invoke/"+s.appID+"/method/"+method, body, "dapr-api-token", s.token)
}

func TestSidecarsRequireTheirAPIToken(t *testing.T) {
	requireStack(t)
	s := sidecarOf(t, "catalog")
	r := call(t, http.MethodGet, s.base+"/v1.0/invoke/catalog/method/categories", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, http.StatusOK, s.invoke(t, http.MethodGet, "categories", nil).Status)
}
