package authn

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Config says which tokens the gateway accepts and where their keys are.
//
// Locally (the default) the users service issues ES256 tokens and serves its
// keys at /.well-known/jwks.json, fetched through Dapr service invocation.
// With Amazon Cognito on AWS:
//
//	AUTH_JWKS_URL=https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json
//	AUTH_ISSUER=https://cognito-idp.<region>.amazonaws.com/<pool>
//	AUTH_AUDIENCE=<app client id>   AUTH_AUDIENCE_CLAIM=client_id
//	AUTH_ROLES_CLAIM=cognito:groups AUTH_ALGORITHMS=RS256   AUTH_TOKEN_USE=access
type Config struct {
	// Issuer must equal the token's iss (AUTH_ISSUER).
	Issuer string
	// Audience must be in the token's AudienceClaim (AUTH_AUDIENCE).
	Audience string
	// AudienceClaim holds the audience: "aud" (default), or "client_id" for
	// Cognito access tokens, which have no aud (AUTH_AUDIENCE_CLAIM).
	AudienceClaim string
	// RolesClaim holds the roles as an array of strings: "roles" (default),
	// "cognito:groups" for Cognito (AUTH_ROLES_CLAIM).
	RolesClaim string
	// EmailClaim holds the e-mail; it may be absent (Cognito access tokens)
	// and then the identity's e-mail is empty (AUTH_EMAIL_CLAIM).
	EmailClaim string
	// TokenUse, when set, must equal the token's token_use claim, so that a
	// Cognito ID token is not accepted where an access token is meant
	// (AUTH_TOKEN_USE, e.g. "access").
	TokenUse string
	// Algorithms the signature may use (AUTH_ALGORITHMS, comma-separated;
	// default ES256). Only asymmetric algorithms: the keys are public.
	Algorithms []jwa.SignatureAlgorithm
	// Leeway tolerates clock skew on exp, nbf and iat (AUTH_LEEWAY, 30s).
	Leeway time.Duration

	// JWKSApp is the Dapr app id serving /.well-known/jwks.json
	// (AUTH_JWKS_APP, default users). Ignored when JWKSURL is set.
	JWKSApp string
	// JWKSURL is an https URL of a JWKS, e.g. Cognito's (AUTH_JWKS_URL).
	JWKSURL string
	// RefreshInterval is how often the keys are fetched again
	// (AUTH_JWKS_REFRESH_INTERVAL, 5m).
	RefreshInterval time.Duration
	// MinRefreshInterval bounds the fetches a token with an unknown kid may
	// cause: at most one per interval (AUTH_JWKS_MIN_REFRESH_INTERVAL, 10s).
	MinRefreshInterval time.Duration
	// FetchTimeout bounds one fetch of the keys (AUTH_JWKS_TIMEOUT, 5s).
	FetchTimeout time.Duration
}

// Default claim names.
const (
	ClaimAudience = "aud"
	ClaimRoles    = "roles"
	ClaimEmail    = "email"
	ClaimTokenUse = "token_use"
)

// LoadConfig reads Config through lookup (os.LookupEnv in production).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	cfg := Config{
		Issuer:             l.String("AUTH_ISSUER", contracts.TokenIssuer),
		Audience:           l.String("AUTH_AUDIENCE", contracts.TokenAudience),
		AudienceClaim:      l.String("AUTH_AUDIENCE_CLAIM", ClaimAudience),
		RolesClaim:         l.String("AUTH_ROLES_CLAIM", ClaimRoles),
		EmailClaim:         l.String("AUTH_EMAIL_CLAIM", ClaimEmail),
		TokenUse:           l.String("AUTH_TOKEN_USE", ""),
		Leeway:             l.Duration("AUTH_LEEWAY", 30*time.Second),
		JWKSApp:            l.String("AUTH_JWKS_APP", contracts.AppUsers),
		JWKSURL:            l.String("AUTH_JWKS_URL", ""),
		RefreshInterval:    l.Duration("AUTH_JWKS_REFRESH_INTERVAL", 5*time.Minute),
		MinRefreshInterval: l.Duration("AUTH_JWKS_MIN_REFRESH_INTERVAL", 10*time.Second),
		FetchTimeout:       l.Duration("AUTH_JWKS_TIMEOUT", 5*time.Second),
	}
	algs, algErr := ParseAlgorithms(l.String("AUTH_ALGORITHMS", "ES256"))
	cfg.Algorithms = algs
	errs := []error{l.Err(), algErr, cfg.check()}
	return cfg, errors.Join(errs...)
}

func (cfg Config) check() error {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("config %s: %s", key, msg)) }
	if cfg.Issuer == "" {
		bad("AUTH_ISSUER", "must be set")
	}
	if cfg.Audience == "" {
		bad("AUTH_AUDIENCE", "must be set")
	}
	if cfg.Leeway < 0 || cfg.Leeway > 5*time.Minute {
		bad("AUTH_LEEWAY", "must be from 0 to 5m")
	}
	if cfg.RefreshInterval < time.Second {
		bad("AUTH_JWKS_REFRESH_INTERVAL", "must be at least 1s")
	}
	if cfg.MinRefreshInterval < 0 {
		bad("AUTH_JWKS_MIN_REFRESH_INTERVAL", "must not be negative")
	}
	if cfg.FetchTimeout <= 0 {
		bad("AUTH_JWKS_TIMEOUT", "must be positive")
	}
	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			bad("AUTH_JWKS_URL", err.Error())
		}
	} else if cfg.JWKSApp == "" {
		bad("AUTH_JWKS_APP", "must be set when AUTH_JWKS_URL is not")
	}
	return errors.Join(errs...)
}

// checkJWKSURL admits https URLs, and http only to the loopback interface
// (a test server): keys fetched in clear text could be anyone's.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("must be an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
	}
	return errors.New("must be an https URL")
}

// ParseAlgorithms reads a comma-separated list of JWS algorithm names and
// refuses symmetric ones and "none": a JWKS holds public keys, and a
// token's signature must be made with the matching private key.
func ParseAlgorithms(list string) ([]jwa.SignatureAlgorithm, error) {
	var out []jwa.SignatureAlgorithm
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		alg, ok := jwa.LookupSignatureAlgorithm(name)
		if !ok || alg == jwa.NoSignature() || alg.IsSymmetric() {
			return nil, fmt.Errorf("config AUTH_ALGORITHMS: %q is not an asymmetric JWS algorithm", name)
		}
		out = append(out, alg)
	}
	if len(out) == 0 {
		return nil, errors.New("config AUTH_ALGORITHMS: must name at least one algorithm")
	}
	return out, nil
}
