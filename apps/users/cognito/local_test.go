package cognito

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/identity"
	"github.com/shopmesh/shopmesh/internal/platform/daprx/daprxtest"
)

// TestCognitoLocal runs the adapter against cognito-local (jagregory's
// emulator, pinned in testdata/package.json). It needs Node and, the first
// time, the npm registry: it installs testdata/node_modules with `npm ci`.
func TestCognitoLocal(t *testing.T) {
	if os.Getenv("SHOPMESH_INTEGRATION") == "" && os.Getenv("COGNITO_LOCAL") == "" {
		t.Skip("runs cognito-local under Node: set SHOPMESH_INTEGRATION=1 or COGNITO_LOCAL=1 (needs node and npm; installs testdata/node_modules on first run)")
	}
	endpoint := startCognitoLocal(t)
	// The budget starts once the emulator is up: a first run's npm ci is
	// not the adapter's time.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	isolateAWSEnv(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "3")

	poolID, clientID := setUpPool(ctx, t, endpoint)
	t.Logf("cognito-local on %s: pool %s, app client %s", endpoint, poolID, clientID)
	p, err := New(ctx, Config{Region: "eu-west-1", UserPoolID: poolID, ClientID: clientID, Endpoint: endpoint})
	require.NoError(t, err)

	const password = "Passw0rd!"
	sub, err := p.SignUp(ctx, "  Alice@Example.com ", password, "Alice")
	require.NoError(t, err)
	require.NotEmpty(t, sub)

	_, err = p.SignUp(ctx, "alice@example.com", password, "Alice again")
	require.ErrorIs(t, err, identity.ErrEmailTaken)

	_, err = p.SignIn(ctx, "alice@example.com", "wrong-Passw0rd!")
	require.ErrorIs(t, err, identity.ErrInvalidCredentials)
	_, err = p.SignIn(ctx, "nobody@example.com", password)
	require.ErrorIs(t, err, identity.ErrInvalidCredentials)

	tok, err := p.SignIn(ctx, "ALICE@example.com", password)
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)
	assert.Greater(t, tok.ExpiresIn, time.Duration(0), "cognito-local omits ExpiresIn: taken from exp")
	claims := jwtClaims(t, tok.AccessToken)
	assert.Equal(t, sub, claims["sub"])
	assert.Equal(t, "access", claims["token_use"])
	assert.Equal(t, clientID, claims["client_id"])
	assert.NotContains(t, claims, "cognito:groups")

	refreshed, err := p.Refresh(ctx, tok.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, tok.RefreshToken, refreshed.RefreshToken, "no rotation: the same refresh token")
	assert.NotEqual(t, tok.AccessToken, refreshed.AccessToken)
	assert.Equal(t, sub, jwtClaims(t, refreshed.AccessToken)["sub"])

	require.NoError(t, p.GrantAdmin(ctx, sub))
	require.NoError(t, p.GrantAdmin(ctx, sub), "granting twice succeeds")
	require.ErrorIs(t, p.GrantAdmin(ctx, "00000000-0000-4000-8000-000000000000"), identity.ErrUnknownUser)

	admin, err := p.SignIn(ctx, "alice@example.com", password)
	require.NoError(t, err)
	claims = jwtClaims(t, admin.AccessToken)
	assert.Equal(t, sub, claims["sub"])
	assert.Equal(t, []any{"admin"}, claims["cognito:groups"])
	t.Logf("after GrantAdmin(%s) and a new sign-in: access token claims sub=%v cognito:groups=%v", sub, claims["sub"], claims["cognito:groups"])

	require.NoError(t, p.SignOut(ctx, admin.RefreshToken))
	require.NoError(t, p.SignOut(ctx, admin.RefreshToken), "signing out twice succeeds")
	_, err = p.Refresh(ctx, admin.RefreshToken)
	require.ErrorIs(t, err, identity.ErrInvalidToken, "a revoked refresh token is refused")

	// The first session was not signed out and still refreshes.
	_, err = p.Refresh(ctx, tok.RefreshToken)
	require.NoError(t, err)
}

// setUpPool creates, with the admin APIs, what the adapter expects: a pool
// where users sign in by e-mail, an app client for USER_PASSWORD_AUTH and
// refresh (no secret), and the admin group.
func setUpPool(ctx context.Context, t *testing.T, endpoint string) (poolID, clientID string) {
	t.Helper()
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	require.NoError(t, err)
	admin := cip.NewFromConfig(awsCfg, func(o *cip.Options) { o.BaseEndpoint = aws.String(endpoint) })

	pool, err := admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:           aws.String("shopmesh-test"),
		UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
	})
	require.NoError(t, err)
	poolID = aws.ToString(pool.UserPool.Id)

	client, err := admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(poolID),
		ClientName: aws.String("users"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{
			types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
		},
		EnableTokenRevocation: aws.Bool(true),
	})
	require.NoError(t, err)
	clientID = aws.ToString(client.UserPoolClient.ClientId)

	_, err = admin.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(poolID), GroupName: aws.String(DefaultAdminGroup)})
	require.NoError(t, err)
	return poolID, clientID
}

// startCognitoLocal installs cognito-local if needed, starts it on a free
// port with its state in a temporary directory, waits until it answers and
// stops it when the test ends. It returns its endpoint.
func startCognitoLocal(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	require.NoError(t, err, "cognito-local needs Node.js (apt-get install nodejs npm)")
	testdata, err := filepath.Abs("testdata")
	require.NoError(t, err)
	script := filepath.Join(testdata, "node_modules", "cognito-local", "lib", "bin", "start.js")
	if _, err := os.Stat(script); errors.Is(err, os.ErrNotExist) {
		npmCI(t, testdata)
	}

	port := daprxtest.FreePorts(t, 1)[0]
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)

	var out lockedBuffer
	cmd := exec.Command(node, script)
	cmd.Dir = t.TempDir() // cognito-local keeps its database in ./.cognito
	// PORT and HOST are read by cognito-local's lib/server/config.js.
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "HOST=127.0.0.1", "NO_COLOR=1")
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start(), "start cognito-local")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("cognito-local output:\n%s", out.String())
		}
	})

	// Ready once it answers HTTP at all (GET / is not an API call).
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("cognito-local exited before it was ready (%v):\n%s", err, out.String())
		default:
		}
		resp, err := http.Get(endpoint + "/")
		if err == nil {
			_ = resp.Body.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("cognito-local not answering on %s after 30s (%v):\n%s", endpoint, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// npmCI installs the pinned cognito-local into testdata/node_modules.
func npmCI(t *testing.T, dir string) {
	t.Helper()
	npm, err := exec.LookPath("npm")
	require.NoError(t, err, "cognito-local is not installed and npm is missing: install npm, or run `npm ci` in %s", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	t.Logf("installing cognito-local: npm ci in %s", dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm ci in %s:\n%s", dir, out)
}

// jwtClaims decodes a JWT's claims without checking its signature.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3, "a JWT has three parts")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

// lockedBuffer collects a process's output written from two goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
