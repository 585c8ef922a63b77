package cognito

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/identity"
)

// Request-level tests: an httptest server stands in for Cognito's endpoint
// and checks what the SDK sends (AWS JSON 1.1: POST /, X-Amz-Target naming
// the operation, a JSON body) and answers canned responses.

const (
	testClientID = "1example23456789clientid"
	testSecret   = "example-client-secret"
	testPoolID   = "eu-west-1_TestPool1"
	targetPrefix = "AWSCognitoIdentityProviderService."
)

// secretHashVector was computed independently of this package:
//
//	printf '%s' 'user@example.com1example23456789clientid' |
//	  openssl dgst -sha256 -hmac 'example-client-secret' -binary | base64
const secretHashVector = "cvUddCudJSHjZpwySF36CbIjIPUEsCPzxh8Y6HGV2es="

type request struct {
	Target string         // operation, without the service prefix
	Signed bool           // carries a SigV4 Authorization header
	Body   map[string]any // the JSON body
}

// reply is a canned answer: HTTP status and JSON body.
type reply struct {
	status int
	body   string
}

func ok(body string) reply { return reply{http.StatusOK, body} }

func cognitoErr(code, msg string) reply {
	return reply{http.StatusBadRequest, fmt.Sprintf(`{"__type":%q,"message":%q}`, code, msg)}
}

// fakeCognito records requests and answers each operation from replies.
type fakeCognito struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []request
	replies map[string]reply // by operation; missing ones fail the test
}

func (f *fakeCognito) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, found := strings.CutPrefix(target, targetPrefix)
	assert.True(f.t, found, "X-Amz-Target %q lacks %q", target, targetPrefix)
	assert.Equal(f.t, http.MethodPost, r.Method)
	assert.Equal(f.t, "application/x-amz-json-1.1", r.Header.Get("Content-Type"))
	raw, err := io.ReadAll(r.Body)
	require.NoError(f.t, err)
	var body map[string]any
	require.NoError(f.t, json.Unmarshal(raw, &body), "body %s", raw)

	f.mu.Lock()
	f.reqs = append(f.reqs, request{
		Target: op,
		Signed: strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "),
		Body:   body,
	})
	rep, found := f.replies[op]
	f.mu.Unlock()

	if !found {
		f.t.Errorf("unexpected operation %s", op)
		rep = reply{http.StatusInternalServerError, `{"__type":"InternalErrorException","message":"unexpected"}`}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeCognito) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func (f *fakeCognito) only(t *testing.T) request {
	t.Helper()
	reqs := f.requests()
	require.Len(t, reqs, 1)
	return reqs[0]
}

// isolateAWSEnv keeps the host's AWS configuration out of the test and makes
// one attempt per call, so canned throttling errors are not retried.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_MAX_ATTEMPTS":            "1",
		"AWS_ENDPOINT_URL":            "",
	} {
		t.Setenv(k, v)
	}
}

// newFake starts a fake Cognito and a Provider pointed at it; mutate adjusts
// the Config.
func newFake(t *testing.T, replies map[string]reply, mutate ...func(*Config)) (*Provider, *fakeCognito) {
	t.Helper()
	isolateAWSEnv(t)
	fake := &fakeCognito{t: t, replies: replies}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cfg := Config{Region: "eu-west-1", UserPoolID: testPoolID, ClientID: testClientID, Endpoint: srv.URL}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := New(context.Background(), cfg)
	require.NoError(t, err)
	return p, fake
}

func withSecret(c *Config) { c.ClientSecret = testSecret }

// fakeJWT builds an unsigned JWT with the given claims.
func fakeJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc(payload) + "." + enc([]byte("sig"))
}

func TestSecretHashKnownVector(t *testing.T) {
	assert.Equal(t, secretHashVector, SecretHash(testSecret, "user@example.com", testClientID))
}

func TestSignUpConfirmsAndReturnsSub(t *testing.T) {
	p, fake := newFake(t, map[string]reply{
		"SignUp":             ok(`{"UserConfirmed":false,"UserSub":"8f1c5a3e-0000-4000-8000-000000000001"}`),
		"AdminConfirmSignUp": ok(`{}`),
	}, withSecret)

	sub, err := p.SignUp(context.Background(), "  User@Example.COM ", "Passw0rd!", " Ada Lovelace ")
	require.NoError(t, err)
	assert.Equal(t, "8f1c5a3e-0000-4000-8000-000000000001", sub)

	reqs := fake.requests()
	require.Len(t, reqs, 2)
	signUp, confirm := reqs[0], reqs[1]

	assert.Equal(t, "SignUp", signUp.Target)
	assert.False(t, signUp.Signed, "SignUp is a public operation: no SigV4")
	assert.Equal(t, map[string]any{
		"ClientId":   testClientID,
		"Username":   "user@example.com",
		"Password":   "Passw0rd!",
		"SecretHash": secretHashVector,
		"UserAttributes": []any{
			map[string]any{"Name": "email", "Value": "user@example.com"},
			map[string]any{"Name": "name", "Value": "Ada Lovelace"},
		},
	}, signUp.Body)

	assert.Equal(t, "AdminConfirmSignUp", confirm.Target)
	assert.True(t, confirm.Signed, "admin operations are SigV4-signed with the pod's credentials")
	assert.Equal(t, map[string]any{"UserPoolId": testPoolID, "Username": sub}, confirm.Body)
}

func TestSignUpWithoutSecretOrNameSendsNeither(t *testing.T) {
	p, fake := newFake(t, map[string]reply{
		"SignUp":             ok(`{"UserConfirmed":false,"UserSub":"sub-1"}`),
		"AdminConfirmSignUp": ok(`{}`),
	})
	_, err := p.SignUp(context.Background(), "user@example.com", "Passw0rd!", "")
	require.NoError(t, err)
	body := fake.requests()[0].Body
	assert.NotContains(t, body, "SecretHash")
	assert.Equal(t, []any{map[string]any{"Name": "email", "Value": "user@example.com"}}, body["UserAttributes"])
}

func TestSignUpAlreadyConfirmedSkipsAdminConfirm(t *testing.T) {
	p, fake := newFake(t, map[string]reply{"SignUp": ok(`{"UserConfirmed":true,"UserSub":"sub-1"}`)})
	sub, err := p.SignUp(context.Background(), "user@example.com", "Passw0rd!", "")
	require.NoError(t, err)
	assert.Equal(t, "sub-1", sub)
	fake.only(t)
}

func TestSignUpErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply reply
		want  error
	}{
		{"username exists", cognitoErr("UsernameExistsException", "An account with the given email already exists."), identity.ErrEmailTaken},
		{"alias exists", cognitoErr("AliasExistsException", "An account with the email already exists."), identity.ErrEmailTaken},
		{"policy", cognitoErr("InvalidPasswordException", "Password did not conform with policy: Password must have uppercase characters"), ErrWeakPassword},
		{"too short", cognitoErr("InvalidParameterException", "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 6"), ErrWeakPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newFake(t, map[string]reply{"SignUp": tc.reply})
			_, err := p.SignUp(context.Background(), "user@example.com", "pw", "")
			require.ErrorIs(t, err, tc.want)
			var apiErr interface{ ErrorCode() string }
			require.ErrorAs(t, err, &apiErr, "Cognito's error stays in the chain")
		})
	}

	t.Run("weak password keeps Cognito's reason", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"SignUp": cognitoErr("InvalidPasswordException", "Password must have symbol characters")})
		_, err := p.SignUp(context.Background(), "user@example.com", "Passw0rd", "")
		assert.ErrorContains(t, err, "Password must have symbol characters")
		var ipe *types.InvalidPasswordException
		assert.ErrorAs(t, err, &ipe)
	})

	t.Run("other errors are neither taken nor weak", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"SignUp": cognitoErr("InvalidParameterException", "Invalid email address format.")})
		_, err := p.SignUp(context.Background(), "not-an-email", "Passw0rd!", "")
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrWeakPassword)
		assert.NotErrorIs(t, err, identity.ErrEmailTaken)
	})
}

func TestSignUpUndoesWhenConfirmFails(t *testing.T) {
	p, fake := newFake(t, map[string]reply{
		"SignUp":             ok(`{"UserConfirmed":false,"UserSub":"sub-1"}`),
		"AdminConfirmSignUp": reply{http.StatusInternalServerError, `{"__type":"InternalErrorException","message":"boom"}`},
		"AdminDeleteUser":    ok(`{}`),
	})
	_, err := p.SignUp(context.Background(), "user@example.com", "Passw0rd!", "")
	require.ErrorContains(t, err, "confirm sign-up of sub-1")

	reqs := fake.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "AdminDeleteUser", reqs[2].Target)
	assert.Equal(t, map[string]any{"UserPoolId": testPoolID, "Username": "sub-1"}, reqs[2].Body)
}

func TestSignInRequestAndTokens(t *testing.T) {
	p, fake := newFake(t, map[string]reply{
		"InitiateAuth": ok(`{"ChallengeParameters":{},"AuthenticationResult":{
			"AccessToken":"access-1","ExpiresIn":3600,"IdToken":"id-1","RefreshToken":"refresh-1","TokenType":"Bearer"}}`),
	}, withSecret)

	tok, err := p.SignIn(context.Background(), " USER@example.com", "Passw0rd!")
	require.NoError(t, err)
	assert.Equal(t, identity.Tokens{AccessToken: "access-1", RefreshToken: "refresh-1", ExpiresIn: time.Hour}, tok)

	req := fake.only(t)
	assert.Equal(t, "InitiateAuth", req.Target)
	assert.False(t, req.Signed)
	assert.Equal(t, map[string]any{
		"AuthFlow": "USER_PASSWORD_AUTH",
		"ClientId": testClientID,
		"AuthParameters": map[string]any{
			"USERNAME":    "user@example.com",
			"PASSWORD":    "Passw0rd!",
			"SECRET_HASH": secretHashVector,
		},
	}, req.Body)
}

func TestSignInWithoutSecretSendsNoHash(t *testing.T) {
	p, fake := newFake(t, map[string]reply{
		"InitiateAuth": ok(`{"AuthenticationResult":{"AccessToken":"a","ExpiresIn":60,"RefreshToken":"r"}}`),
	})
	_, err := p.SignIn(context.Background(), "user@example.com", "pw")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"USERNAME": "user@example.com", "PASSWORD": "pw"}, fake.only(t).Body["AuthParameters"])
}

func TestSignInExpiresInFromTokenWhenMissing(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	access := fakeJWT(t, map[string]any{"sub": "s", "exp": now.Add(10 * time.Minute).Unix()})
	p, _ := newFake(t, map[string]reply{
		"InitiateAuth": ok(fmt.Sprintf(`{"AuthenticationResult":{"AccessToken":%q,"RefreshToken":"r"}}`, access)),
	})
	p.now = func() time.Time { return now }
	tok, err := p.SignIn(context.Background(), "user@example.com", "pw")
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, tok.ExpiresIn)
}

func TestSignInErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reply      reply
		want       []error
		retryAfter time.Duration // for ErrLockedOut
	}{
		{"wrong password", cognitoErr("NotAuthorizedException", "Incorrect username or password."),
			[]error{identity.ErrInvalidCredentials}, 0},
		{"unknown user", cognitoErr("UserNotFoundException", "User does not exist."),
			[]error{identity.ErrInvalidCredentials}, 0},
		{"namespaced type", cognitoErr("com.amazonaws.cognito.identity.idp.model#NotAuthorizedException", "Incorrect username or password."),
			[]error{identity.ErrInvalidCredentials}, 0},
		{"cognito-local wrong password", cognitoErr("InvalidPasswordException", "Invalid password"),
			[]error{identity.ErrInvalidCredentials}, 0},
		{"unconfirmed", cognitoErr("UserNotConfirmedException", "User is not confirmed."),
			[]error{identity.ErrInvalidCredentials}, 0},
		{"locked out", cognitoErr("NotAuthorizedException", "Password attempts exceeded"),
			[]error{identity.ErrLockedOut}, 15 * time.Minute},
		{"too many failed attempts", cognitoErr("TooManyFailedAttemptsException", "Too many failed attempts"),
			[]error{identity.ErrLockedOut}, 15 * time.Minute},
		{"throttled", cognitoErr("TooManyRequestsException", "Rate exceeded"),
			[]error{identity.ErrLockedOut}, 30 * time.Second},
		{"reset required", cognitoErr("PasswordResetRequiredException", "Password reset required for the user"),
			[]error{ErrPasswordResetRequired, identity.ErrInvalidCredentials}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newFake(t, map[string]reply{"InitiateAuth": tc.reply})
			_, err := p.SignIn(context.Background(), "user@example.com", "pw")
			for _, want := range tc.want {
				require.ErrorIs(t, err, want)
			}
			var locked *identity.LockedOutError
			if tc.retryAfter > 0 {
				require.ErrorAs(t, err, &locked)
				assert.Equal(t, tc.retryAfter, locked.RetryAfter)
			} else {
				assert.NotErrorIs(t, err, identity.ErrLockedOut)
			}
		})
	}

	t.Run("server error is not a credentials error", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"InitiateAuth": {http.StatusInternalServerError, `{"__type":"InternalErrorException","message":"x"}`}})
		_, err := p.SignIn(context.Background(), "user@example.com", "pw")
		require.Error(t, err)
		assert.NotErrorIs(t, err, identity.ErrInvalidCredentials)
	})

	t.Run("challenge", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"InitiateAuth": ok(`{"ChallengeName":"SOFTWARE_TOKEN_MFA","Session":"s","ChallengeParameters":{}}`)})
		_, err := p.SignIn(context.Background(), "user@example.com", "pw")
		require.ErrorIs(t, err, ErrUnsupportedChallenge)
		assert.ErrorContains(t, err, "SOFTWARE_TOKEN_MFA")
	})
}

func TestRefreshWithoutSecretUsesInitiateAuthAndKeepsToken(t *testing.T) {
	p, fake := newFake(t, map[string]reply{
		"InitiateAuth": ok(`{"AuthenticationResult":{"AccessToken":"access-2","ExpiresIn":3600,"IdToken":"id-2","TokenType":"Bearer"}}`),
	})
	tok, err := p.Refresh(context.Background(), "refresh-1")
	require.NoError(t, err)
	assert.Equal(t, identity.Tokens{AccessToken: "access-2", RefreshToken: "refresh-1", ExpiresIn: time.Hour}, tok)
	assert.Equal(t, map[string]any{
		"AuthFlow":       "REFRESH_TOKEN_AUTH",
		"ClientId":       testClientID,
		"AuthParameters": map[string]any{"REFRESH_TOKEN": "refresh-1"},
	}, fake.only(t).Body)
}

func TestRefreshWithSecretUsesGetTokensFromRefreshToken(t *testing.T) {
	p, fake := newFake(t, map[string]reply{
		"GetTokensFromRefreshToken": ok(`{"AuthenticationResult":{"AccessToken":"access-2","ExpiresIn":300,"RefreshToken":"refresh-2"}}`),
	}, withSecret)
	tok, err := p.Refresh(context.Background(), "refresh-1")
	require.NoError(t, err)
	assert.Equal(t, identity.Tokens{AccessToken: "access-2", RefreshToken: "refresh-2", ExpiresIn: 5 * time.Minute}, tok,
		"a rotated refresh token replaces the old one")
	req := fake.only(t)
	assert.Equal(t, "GetTokensFromRefreshToken", req.Target)
	assert.False(t, req.Signed)
	assert.Equal(t, map[string]any{"ClientId": testClientID, "ClientSecret": testSecret, "RefreshToken": "refresh-1"}, req.Body)
}

func TestRefreshErrors(t *testing.T) {
	for _, op := range []string{"InitiateAuth", "GetTokensFromRefreshToken"} {
		for _, tc := range []struct {
			name  string
			reply reply
		}{
			{"revoked", cognitoErr("NotAuthorizedException", "Refresh Token has been revoked")},
			{"expired", cognitoErr("NotAuthorizedException", "Refresh Token has expired")},
			{"user deleted", cognitoErr("UserNotFoundException", "User does not exist.")},
		} {
			t.Run(op+"/"+tc.name, func(t *testing.T) {
				var opts []func(*Config)
				if op == "GetTokensFromRefreshToken" {
					opts = append(opts, withSecret)
				}
				p, _ := newFake(t, map[string]reply{op: tc.reply}, opts...)
				_, err := p.Refresh(context.Background(), "refresh-1")
				require.ErrorIs(t, err, identity.ErrInvalidToken)
			})
		}
	}

	t.Run("empty token never reaches Cognito", func(t *testing.T) {
		p, fake := newFake(t, nil)
		_, err := p.Refresh(context.Background(), "")
		require.ErrorIs(t, err, identity.ErrInvalidToken)
		assert.Empty(t, fake.requests())
	})
}

func TestSignOutRevokes(t *testing.T) {
	p, fake := newFake(t, map[string]reply{"RevokeToken": ok(`{}`)}, withSecret)
	require.NoError(t, p.SignOut(context.Background(), "refresh-1"))
	req := fake.only(t)
	assert.Equal(t, "RevokeToken", req.Target)
	assert.False(t, req.Signed)
	assert.Equal(t, map[string]any{"ClientId": testClientID, "ClientSecret": testSecret, "Token": "refresh-1"}, req.Body)
}

func TestSignOutWithoutSecret(t *testing.T) {
	p, fake := newFake(t, map[string]reply{"RevokeToken": ok(`{}`)})
	require.NoError(t, p.SignOut(context.Background(), "refresh-1"))
	assert.Equal(t, map[string]any{"ClientId": testClientID, "Token": "refresh-1"}, fake.only(t).Body)
}

func TestSignOutErrors(t *testing.T) {
	t.Run("already revoked is success", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"RevokeToken": cognitoErr("NotAuthorizedException", "Invalid token")})
		assert.NoError(t, p.SignOut(context.Background(), "refresh-1"))
	})
	t.Run("not a refresh token", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"RevokeToken": cognitoErr("UnsupportedTokenTypeException", "Unsupported token type")})
		assert.ErrorIs(t, p.SignOut(context.Background(), "access-1"), identity.ErrInvalidToken)
	})
	t.Run("revocation disabled is a configuration error", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"RevokeToken": cognitoErr("UnsupportedOperationException", "Token revocation is not enabled")})
		err := p.SignOut(context.Background(), "refresh-1")
		require.Error(t, err)
		assert.NotErrorIs(t, err, identity.ErrInvalidToken)
	})
	t.Run("empty token", func(t *testing.T) {
		p, fake := newFake(t, nil)
		assert.ErrorIs(t, p.SignOut(context.Background(), ""), identity.ErrInvalidToken)
		assert.Empty(t, fake.requests())
	})
}

func TestGrantAdmin(t *testing.T) {
	p, fake := newFake(t, map[string]reply{"AdminAddUserToGroup": ok(`{}`)})
	require.NoError(t, p.GrantAdmin(context.Background(), "sub-1"))
	req := fake.only(t)
	assert.Equal(t, "AdminAddUserToGroup", req.Target)
	assert.True(t, req.Signed)
	assert.Equal(t, map[string]any{"UserPoolId": testPoolID, "Username": "sub-1", "GroupName": "admin"}, req.Body)
}

func TestGrantAdminCustomGroup(t *testing.T) {
	p, fake := newFake(t, map[string]reply{"AdminAddUserToGroup": ok(`{}`)}, func(c *Config) { c.AdminGroup = "shop-admins" })
	require.NoError(t, p.GrantAdmin(context.Background(), "sub-1"))
	assert.Equal(t, "shop-admins", fake.only(t).Body["GroupName"])
}

func TestGrantAdminErrors(t *testing.T) {
	t.Run("unknown user", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"AdminAddUserToGroup": cognitoErr("UserNotFoundException", "User does not exist.")})
		assert.ErrorIs(t, p.GrantAdmin(context.Background(), "nobody"), identity.ErrUnknownUser)
	})
	t.Run("missing group", func(t *testing.T) {
		p, _ := newFake(t, map[string]reply{"AdminAddUserToGroup": cognitoErr("ResourceNotFoundException", "Group not found.")})
		err := p.GrantAdmin(context.Background(), "sub-1")
		assert.ErrorContains(t, err, `create group "admin"`)
		assert.NotErrorIs(t, err, identity.ErrUnknownUser)
	})
	t.Run("empty ID", func(t *testing.T) {
		p, fake := newFake(t, nil)
		assert.ErrorIs(t, p.GrantAdmin(context.Background(), ""), identity.ErrUnknownUser)
		assert.Empty(t, fake.requests())
	})
}
