// Package cognito implements identity.Provider with an Amazon Cognito user
// pool: Cognito keeps the passwords and issues the tokens, the users service
// keeps the profiles.
//
// What the pool and its app client must look like (see README.md):
//   - users sign in with their e-mail: the adapter sends the normalised
//     (trimmed, lower-cased) e-mail as username; a pool with
//     UsernameAttributes=[email] and case-insensitive usernames fits best;
//   - no AutoVerifiedAttributes: SignUp confirms every account at once with
//     AdminConfirmSignUp, because the shop verifies e-mail addresses with its
//     own mail flow, not with Cognito's codes;
//   - MFA off: the port has no step for a challenge;
//   - an app client allowing ALLOW_USER_PASSWORD_AUTH and
//     ALLOW_REFRESH_TOKEN_AUTH, token revocation on (the default), refresh
//     token rotation off (the default) unless the client has a secret;
//   - a group named Config.AdminGroup.
//
// The pod's IAM role needs cognito-idp:AdminConfirmSignUp, AdminDeleteUser and
// AdminAddUserToGroup on the pool. SignUp, InitiateAuth,
// GetTokensFromRefreshToken and RevokeToken are public, unsigned operations.
package cognito

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/shopmesh/shopmesh/apps/users/identity"
)

var (
	// ErrWeakPassword: the pool's password policy rejected the password at
	// sign-up. The error text carries Cognito's reason (e.g. "Password must
	// have uppercase characters"); callers answer 400.
	ErrWeakPassword = fmt.Errorf("password does not meet the user pool's policy: %w", identity.ErrWeakPassword)
	// ErrPasswordResetRequired: an administrator reset the user's password.
	// Errors carrying it also match identity.ErrInvalidCredentials, so a caller
	// that knows nothing of it still answers 401 and reveals nothing.
	ErrPasswordResetRequired = errors.New("password reset required")
	// ErrUnsupportedChallenge: Cognito answered a sign-in with a challenge
	// (MFA, new password) instead of tokens; the port has no way to answer it,
	// so the pool must not ask for one.
	ErrUnsupportedChallenge = errors.New("sign-in challenge not supported")
)

const (
	// lockoutRetryAfter is how long a locked-out user is told to wait. After
	// five failed sign-ins Cognito locks the user out for a time that doubles
	// with each further failure, up to about 15 minutes: the bound is the only
	// figure Cognito's answer lets us give.
	lockoutRetryAfter = 15 * time.Minute
	// throttleRetryAfter is the wait suggested when Cognito throttles the whole
	// pool (TooManyRequestsException, after the SDK's own retries): a quota
	// per second, not a verdict on the user, so a short wait.
	throttleRetryAfter = 30 * time.Second
	// defaultAccessTokenValidity is Cognito's default, used only when neither
	// ExpiresIn nor the token's exp claim tells the lifetime.
	defaultAccessTokenValidity = time.Hour
	// undoTimeout bounds the clean-up of a half-done sign-up.
	undoTimeout = 10 * time.Second
)

// Provider is an identity.Provider backed by a Cognito user pool. It is safe
// for concurrent use.
type Provider struct {
	client *cip.Client
	cfg    Config
	now    func() time.Time
}

var _ identity.Provider = (*Provider)(nil)

// New builds the Cognito client from the default AWS configuration chain
// (on EKS: the pod's IRSA or Pod Identity role), in cfg.Region, talking to
// cfg.Endpoint when it is set.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Region))
	if err != nil {
		return nil, fmt.Errorf("cognito: load AWS config: %w", err)
	}
	client := cip.NewFromConfig(awsCfg, func(o *cip.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &Provider{client: client, cfg: cfg, now: time.Now}, nil
}

// SignUp registers the user and confirms the account at once, returning the
// user's sub, a stable ID that Cognito never reuses.
func (p *Provider) SignUp(ctx context.Context, email, password, name string) (string, error) {
	username := normaliseEmail(email)
	attrs := []types.AttributeType{{Name: aws.String("email"), Value: aws.String(username)}}
	if name = strings.TrimSpace(name); name != "" {
		attrs = append(attrs, types.AttributeType{Name: aws.String("name"), Value: aws.String(name)})
	}
	out, err := p.client.SignUp(ctx, &cip.SignUpInput{
		ClientId:       aws.String(p.cfg.ClientID),
		Username:       aws.String(username),
		Password:       aws.String(password),
		SecretHash:     p.secretHash(username),
		UserAttributes: attrs,
	})
	if err != nil {
		code, msg := apiError(err)
		switch {
		case code == "UsernameExistsException" || code == "AliasExistsException":
			return "", fmt.Errorf("cognito: sign up: %w: %w", identity.ErrEmailTaken, err)
		case code == "InvalidPasswordException",
			// Passwords shorter than 6 fail the API's own length constraint
			// before the pool's policy sees them.
			code == "InvalidParameterException" && strings.Contains(strings.ToLower(msg), "password"):
			return "", fmt.Errorf("cognito: sign up: %w: %s: %w", ErrWeakPassword, msg, err)
		}
		return "", fmt.Errorf("cognito: sign up: %w", err)
	}
	sub := aws.ToString(out.UserSub)
	if sub == "" {
		return "", errors.New("cognito: sign up: response has no UserSub")
	}
	if out.UserConfirmed { // a pre sign-up trigger confirmed it already
		return sub, nil
	}
	// The sub is accepted wherever a username is, whatever the pool's
	// username attributes.
	if _, err := p.client.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{
		UserPoolId: aws.String(p.cfg.UserPoolID),
		Username:   aws.String(sub),
	}); err != nil {
		err = fmt.Errorf("cognito: confirm sign-up of %s: %w", sub, err)
		// Left unconfirmed, the account could neither sign in nor sign up
		// again (the e-mail is taken): remove it so the caller can retry.
		if undoErr := p.deleteUser(ctx, sub); undoErr != nil {
			err = errors.Join(err, fmt.Errorf("cognito: undo sign-up of %s: %w", sub, undoErr))
		}
		return "", err
	}
	return sub, nil
}

func (p *Provider) deleteUser(ctx context.Context, sub string) error {
	// The caller's context may be what failed the confirmation.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	_, err := p.client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{
		UserPoolId: aws.String(p.cfg.UserPoolID),
		Username:   aws.String(sub),
	})
	return err
}

// SignIn checks the password with USER_PASSWORD_AUTH (the password goes to
// Cognito over TLS; SRP would need a client-side challenge exchange the port
// does not have).
func (p *Provider) SignIn(ctx context.Context, email, password string) (identity.Tokens, error) {
	username := normaliseEmail(email)
	params := map[string]string{"USERNAME": username, "PASSWORD": password}
	if h := p.secretHash(username); h != nil {
		params["SECRET_HASH"] = *h
	}
	out, err := p.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(p.cfg.ClientID),
		AuthParameters: params,
	})
	if err != nil {
		return identity.Tokens{}, signInError(err)
	}
	if out.AuthenticationResult == nil {
		return identity.Tokens{}, fmt.Errorf("cognito: sign in: %w: %s", ErrUnsupportedChallenge, out.ChallengeName)
	}
	return p.tokens("sign in", out.AuthenticationResult, "")
}

func signInError(err error) error {
	code, msg := apiError(err)
	switch code {
	case "NotAuthorizedException":
		// Cognito tells a temporary lockout only by this message.
		if strings.Contains(msg, "Password attempts exceeded") {
			return fmt.Errorf("cognito: sign in: %w: %w", &identity.LockedOutError{RetryAfter: lockoutRetryAfter}, err)
		}
		return fmt.Errorf("cognito: sign in: %w: %w", identity.ErrInvalidCredentials, err)
	case "UserNotFoundException", // only when the client does not prevent user existence errors
		"UserNotConfirmedException", // an account not made by SignUp, or left half-done
		"InvalidPasswordException":  // cognito-local's answer to a wrong password
		// The same error as a wrong password: callers must not reveal
		// whether an account exists.
		return fmt.Errorf("cognito: sign in: %w: %w", identity.ErrInvalidCredentials, err)
	case "TooManyFailedAttemptsException": // the modelled lockout error, should Cognito use it here
		return fmt.Errorf("cognito: sign in: %w: %w", &identity.LockedOutError{RetryAfter: lockoutRetryAfter}, err)
	case "PasswordResetRequiredException":
		return fmt.Errorf("cognito: sign in: %w: %w: %w", ErrPasswordResetRequired, identity.ErrInvalidCredentials, err)
	case "TooManyRequestsException":
		return fmt.Errorf("cognito: sign in: %w: %w", &identity.LockedOutError{RetryAfter: throttleRetryAfter}, err)
	}
	return fmt.Errorf("cognito: sign in: %w", err)
}

// Refresh trades a refresh token for a new access token. Cognito does not
// rotate refresh tokens unless the app client turns rotation on, so the
// returned RefreshToken is normally the one given; a rotated one replaces it.
//
// Without a client secret this is InitiateAuth REFRESH_TOKEN_AUTH. With one,
// that flow needs SECRET_HASH over the user's Cognito username (the sub, in a
// pool signing in by e-mail), which the opaque refresh token does not reveal
// and the port does not pass; so it uses GetTokensFromRefreshToken, which
// takes the client secret itself (and also works with rotation on).
func (p *Provider) Refresh(ctx context.Context, refreshToken string) (identity.Tokens, error) {
	if refreshToken == "" {
		return identity.Tokens{}, fmt.Errorf("cognito: refresh: empty token: %w", identity.ErrInvalidToken)
	}
	var (
		res *types.AuthenticationResultType
		err error
	)
	if p.cfg.ClientSecret == "" {
		var out *cip.InitiateAuthOutput
		out, err = p.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
			AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
			ClientId:       aws.String(p.cfg.ClientID),
			AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
		})
		if err == nil {
			res = out.AuthenticationResult
		}
	} else {
		var out *cip.GetTokensFromRefreshTokenOutput
		out, err = p.client.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{
			ClientId:     aws.String(p.cfg.ClientID),
			ClientSecret: aws.String(p.cfg.ClientSecret),
			RefreshToken: aws.String(refreshToken),
		})
		if err == nil {
			res = out.AuthenticationResult
		}
	}
	if err != nil {
		switch code, _ := apiError(err); code {
		case "NotAuthorizedException", // expired, revoked or forged
			"UserNotFoundException", // the user was deleted
			"RefreshTokenReuseException":
			return identity.Tokens{}, fmt.Errorf("cognito: refresh: %w: %w", identity.ErrInvalidToken, err)
		case "TooManyRequestsException":
			return identity.Tokens{}, fmt.Errorf("cognito: refresh: %w: %w", &identity.LockedOutError{RetryAfter: throttleRetryAfter}, err)
		}
		return identity.Tokens{}, fmt.Errorf("cognito: refresh: %w", err)
	}
	if res == nil {
		return identity.Tokens{}, errors.New("cognito: refresh: response has no AuthenticationResult")
	}
	return p.tokens("refresh", res, refreshToken)
}

// SignOut revokes the refresh token and the access tokens issued from it.
// It is idempotent: a token that is already revoked, expired or unknown has
// nothing left to revoke, and that is success.
func (p *Provider) SignOut(ctx context.Context, refreshToken string) error {
	if refreshToken == "" {
		return fmt.Errorf("cognito: sign out: empty token: %w", identity.ErrInvalidToken)
	}
	in := &cip.RevokeTokenInput{ClientId: aws.String(p.cfg.ClientID), Token: aws.String(refreshToken)}
	if p.cfg.ClientSecret != "" {
		in.ClientSecret = aws.String(p.cfg.ClientSecret)
	}
	_, err := p.client.RevokeToken(ctx, in)
	if err == nil {
		return nil
	}
	switch code, _ := apiError(err); code {
	case "NotAuthorizedException":
		return nil
	case "UnsupportedTokenTypeException": // e.g. an access token
		return fmt.Errorf("cognito: sign out: %w: %w", identity.ErrInvalidToken, err)
	}
	return fmt.Errorf("cognito: sign out: %w", err)
}

// GrantAdmin adds the user to the admin group; the group appears in the
// cognito:groups claim of tokens issued afterwards (at the next sign-in or
// refresh), not in tokens already issued. userID is the sub SignUp returned:
// AdminAddUserToGroup takes the sub in place of the username. Adding a member
// again succeeds.
func (p *Provider) GrantAdmin(ctx context.Context, userID string) error {
	if userID == "" {
		return fmt.Errorf("cognito: grant admin: empty user ID: %w", identity.ErrUnknownUser)
	}
	_, err := p.client.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
		UserPoolId: aws.String(p.cfg.UserPoolID),
		Username:   aws.String(userID),
		GroupName:  aws.String(p.cfg.AdminGroup),
	})
	if err == nil {
		return nil
	}
	switch code, _ := apiError(err); code {
	case "UserNotFoundException":
		return fmt.Errorf("cognito: grant admin to %s: %w: %w", userID, identity.ErrUnknownUser, err)
	case "ResourceNotFoundException": // the group (or pool) does not exist
		return fmt.Errorf("cognito: grant admin to %s: create group %q in pool %s first: %w", userID, p.cfg.AdminGroup, p.cfg.UserPoolID, err)
	}
	return fmt.Errorf("cognito: grant admin to %s: %w", userID, err)
}

// tokens converts Cognito's result; refreshToken is kept when Cognito returns
// none (refresh without rotation).
func (p *Provider) tokens(op string, res *types.AuthenticationResultType, refreshToken string) (identity.Tokens, error) {
	t := identity.Tokens{
		AccessToken:  aws.ToString(res.AccessToken),
		RefreshToken: aws.ToString(res.RefreshToken),
		ExpiresIn:    time.Duration(res.ExpiresIn) * time.Second,
	}
	if t.AccessToken == "" {
		return identity.Tokens{}, fmt.Errorf("cognito: %s: response has no access token", op)
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	if t.ExpiresIn <= 0 {
		// cognito-local omits ExpiresIn; the token's exp says the same.
		t.ExpiresIn = p.untilExpiry(t.AccessToken)
	}
	return t, nil
}

// untilExpiry reads the exp claim of a JWT without verifying it: it only
// sizes ExpiresIn for the client, it grants nothing.
func (p *Provider) untilExpiry(jwt string) time.Duration {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return defaultAccessTokenValidity
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return defaultAccessTokenValidity
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == 0 {
		return defaultAccessTokenValidity
	}
	return max(time.Unix(claims.Exp, 0).Sub(p.now()).Round(time.Second), 0)
}

// secretHash is SECRET_HASH for username, or nil when the client has no secret.
func (p *Provider) secretHash(username string) *string {
	if p.cfg.ClientSecret == "" {
		return nil
	}
	return aws.String(SecretHash(p.cfg.ClientSecret, username, p.cfg.ClientID))
}

// SecretHash is Cognito's SECRET_HASH: base64(HMAC-SHA256(clientSecret,
// username + clientID)).
func SecretHash(clientSecret, username, clientID string) string {
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// normaliseEmail makes one account of User@Example.com and user@example.com,
// whatever the pool's case sensitivity.
func normaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// apiError returns the Cognito error code (e.g. "NotAuthorizedException")
// and message of err, or empty strings when err is not an API error.
func apiError(err error) (code, message string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}
