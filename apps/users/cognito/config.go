package cognito

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultAdminGroup is the Cognito group whose members are shop administrators.
const DefaultAdminGroup = "admin"

// Environment variables read by LoadConfig.
const (
	EnvRegion       = "COGNITO_REGION" // falls back to AWS_REGION
	EnvUserPoolID   = "COGNITO_USER_POOL_ID"
	EnvClientID     = "COGNITO_CLIENT_ID"
	EnvClientSecret = "COGNITO_CLIENT_SECRET"
	EnvEndpoint     = "COGNITO_ENDPOINT"
	EnvAdminGroup   = "COGNITO_ADMIN_GROUP"
)

// Config locates the user pool and the app client the users service acts as.
type Config struct {
	Region     string // the user pool's region, e.g. eu-west-1
	UserPoolID string // e.g. eu-west-1_AbCdEf123
	ClientID   string // an app client with ALLOW_USER_PASSWORD_AUTH and ALLOW_REFRESH_TOKEN_AUTH
	// ClientSecret is set when the app client has a secret; the adapter then
	// sends SECRET_HASH (or ClientSecret) wherever Cognito requires it.
	ClientSecret string
	// Endpoint overrides Cognito's endpoint (cognito-local, tests); empty on AWS.
	Endpoint string
	// AdminGroup is the group GrantAdmin adds users to; DefaultAdminGroup when empty.
	AdminGroup string
}

// LoadConfig reads the configuration from the environment through lookup
// (os.LookupEnv in production). It reports every missing required value in
// one error, so a misconfigured deployment is fixed in one go.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	cfg := Config{
		Region:       get(EnvRegion),
		UserPoolID:   get(EnvUserPoolID),
		ClientID:     get(EnvClientID),
		ClientSecret: get(EnvClientSecret),
		Endpoint:     get(EnvEndpoint),
		AdminGroup:   get(EnvAdminGroup),
	}
	if cfg.Region == "" {
		// On EKS the IRSA / Pod Identity webhook injects AWS_REGION.
		cfg.Region = get("AWS_REGION")
	}
	var missing []string
	if cfg.Region == "" {
		missing = append(missing, EnvRegion+" (or AWS_REGION)")
	}
	if cfg.UserPoolID == "" {
		missing = append(missing, EnvUserPoolID)
	}
	if cfg.ClientID == "" {
		missing = append(missing, EnvClientID)
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("cognito config: missing %s", strings.Join(missing, ", "))
	}
	return cfg.withDefaults(), cfg.validate()
}

func (c Config) withDefaults() Config {
	if c.AdminGroup == "" {
		c.AdminGroup = DefaultAdminGroup
	}
	return c
}

// validate catches a pool of one region used with another: pool IDs start
// with their region, and a region injected by the platform (AWS_REGION) may
// differ from the pool's. Skipped with an Endpoint override (cognito-local
// names pools local_…).
func (c Config) validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"region", c.Region}, {"user pool ID", c.UserPoolID}, {"client ID", c.ClientID},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("cognito config: %s is empty", f.name))
		}
	}
	if c.Endpoint == "" && c.UserPoolID != "" && c.Region != "" {
		if prefix, _, ok := strings.Cut(c.UserPoolID, "_"); ok && prefix != c.Region {
			errs = append(errs, fmt.Errorf("cognito config: user pool %s is in region %s, not %s", c.UserPoolID, prefix, c.Region))
		}
	}
	return errors.Join(errs...)
}

// Issuer is the "iss" claim of the pool's tokens on AWS, which the gateway
// requires. (cognito-local signs with its own issuer, http://localhost:9229/<pool>.)
func (c Config) Issuer() string {
	return fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", c.Region, c.UserPoolID)
}

// JWKSURL is where the pool publishes the keys that sign its tokens.
func (c Config) JWKSURL() string { return c.Issuer() + "/.well-known/jwks.json" }
